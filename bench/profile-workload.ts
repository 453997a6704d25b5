import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { onLandingWorkload } from './on-landing';

/**
 * Profiles one benchmark workload with V8's CPU profiler (what `node --cpu-prof` uses), scoped to the
 * measured calls only (no fixture building), and writes a .cpuprofile:
 *   npx tsx bench/profile-workload.ts on-landing <P> <mocked|sdk> [iterations] [out.cpuprofile]
 * (default out: node_modules/.cache/medallion-bench/profiles/on-landing-p<P>-<mode>.cpuprofile)
 * Summarise it with `npx tsx bench/cpu-profile-summary.ts <out.cpuprofile>`.
 */

async function main(): Promise<void> {
  const [workload, ...args] = process.argv.slice(2);
  if (workload !== 'on-landing') throw new Error(`unknown workload "${workload ?? ''}" (known: on-landing)`);
  const p = Number(args[0] ?? 1);
  const mode = args[1] === 'sdk' ? 'sdk' : 'mocked';
  const iterations = Number(args[2] ?? 20);
  // Default next to the other bench outputs, inside node_modules/.cache: never a stray file in the repo.
  const dir = join(process.cwd(), 'node_modules', '.cache', 'medallion-bench', 'profiles');
  mkdirSync(dir, { recursive: true });
  const out = args[3] ?? join(dir, `on-landing-p${p}-${mode}.cpuprofile`);
  const session = new Session();
  session.connect();
  const cpu = await onLandingWorkload(p, mode, iterations, async (work) => {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const result = await work();
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(out, JSON.stringify(profile));
    return result;
  });
  session.disconnect();
  console.log(
    `on-landing P=${p} ${mode}: mean CPU ${cpu.toFixed(1)} ms over ${iterations} runs; profile in ${out}`,
  );
}

void main();
