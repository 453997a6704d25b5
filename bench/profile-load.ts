import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE, requiredEnv, SETTINGS } from './bundle';

/**
 * Where a function's cold-start module load goes: bundles functions/<name>/handler.ts with the
 * production settings but not minified (so esbuild's `// node_modules/<pkg>/...` comments name the
 * code), imports it once under `node --cpu-prof` (with the functions' NODE_OPTIONS), and prints the
 * self time per package and per V8/node activity.
 *   npx tsx bench/profile-load.ts on-landing
 */

const fn = process.argv[2] ?? 'on-landing';
const dir = join(process.cwd(), 'node_modules', '.cache', 'medallion-bench', 'profile-load', fn);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const file = join(dir, 'handler.mjs');

async function main(): Promise<void> {
  await build({
    ...BUNDLE,
    minify: false,
    entryPoints: [join('functions', fn, 'handler.ts')],
    outfile: file,
  });
  const env = Object.fromEntries(requiredEnv(fn).map((n) => [n, `bench-${n.toLowerCase()}`]));
  const out = spawnSync(
    process.execPath,
    [
      '--cpu-prof',
      '--cpu-prof-dir',
      dir,
      '--cpu-prof-interval',
      '50',
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(`file://${file}`)});`,
    ],
    {
      env: {
        PATH: process.env['PATH'] ?? '',
        AWS_REGION: 'eu-west-1',
        NODE_OPTIONS: SETTINGS.nodeOptions,
        ...env,
      },
      encoding: 'utf8',
    },
  );
  if (out.status !== 0) throw new Error(out.stderr);
  const profileFile = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!profileFile) throw new Error('node wrote no .cpuprofile');
  const profile = JSON.parse(readFileSync(join(dir, profileFile), 'utf8')) as {
    nodes: Array<{
      id: number;
      callFrame: { functionName: string; url: string };
      positionTicks?: Array<{ line: number; ticks: number }>;
    }>;
    samples: number[];
    timeDeltas: number[];
  };

  const lines = readFileSync(file, 'utf8').split('\n');
  const owner: string[] = [];
  let current = 'esbuild runtime / banner';
  lines.forEach((line, i) => {
    const m = /^\/\/ (?:\.\.\/)*(?:node_modules\/)?((?:@[^/\s]+\/)?[^/\s]+)\/\S+$/.exec(line);
    if (m) current = /^(shared|functions)$/.test(m[1] as string) ? 'repo code' : (m[1] as string);
    owner[i + 1] = current;
  });

  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totals = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (us === 0 || node.callFrame.functionName === '(idle)') continue;
    busy += us;
    const { url, functionName } = node.callFrame;
    if (url === `file://${file}`) {
      const ticks = node.positionTicks ?? [];
      const sum = ticks.reduce((a, t) => a + t.ticks, 0);
      if (sum === 0) totals.set('bundle (top level)', (totals.get('bundle (top level)') ?? 0) + us);
      for (const t of ticks) {
        const key = owner[t.line] ?? '?';
        totals.set(key, (totals.get(key) ?? 0) + (us * t.ticks) / sum);
      }
    } else {
      const key = url.startsWith('node:') ? `node: ${functionName || url}` : functionName || '(vm)';
      totals.set(key, (totals.get(key) ?? 0) + us);
    }
  }
  console.log(
    `${fn}: ${(busy / 1000).toFixed(1)} ms busy in a fresh node importing the (unminified) bundle (NODE_OPTIONS=${SETTINGS.nodeOptions})`,
  );
  for (const [key, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(
      `  ${(us / 1000).toFixed(1).padStart(7)} ms  ${((us / busy) * 100).toFixed(0).padStart(3)}%  ${key}`,
    );
}

void main();
