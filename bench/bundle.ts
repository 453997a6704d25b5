import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { parse } from 'yaml';
import { fmt, kb, median, type BenchRow, type Suite } from './lib';

/**
 * Bundle per function: minified bytes, zip bytes and module load time in a fresh `node`, against
 * (a) the floor — only the AWS SDK clients the function imports, bundled alone the same way — and
 * (b) the same function unbundled: its own code compiled, every package loaded from node_modules.
 */

const ROOT = process.cwd();
// Inside node_modules: eslint and prettier skip it, and unbundled output still resolves packages.
const OUT = join(ROOT, 'node_modules', '.cache', 'medallion-bench', 'bundle');
const LOAD_RUNS = 15;
const FLOOR_SLACK_BYTES = 60 * 1024;
const LOAD_RATIO_TARGET = 0.75;

/**
 * The production bundle settings: serverless.yml's `custom.esbuild` (what serverless-esbuild builds
 * the Lambda zips with) and the functions' NODE_OPTIONS, so the benchmark measures what ships.
 * (CloudFormation tags such as !Ref are not YAML core tags: `yaml` keeps their values as plain ones.)
 */
function productionSettings(): { options: BuildOptions; nodeOptions: string; source: string } {
  const config = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    custom?: { esbuild?: Record<string, unknown> };
    provider?: { environment?: Record<string, unknown> };
  };
  const esb = config.custom?.esbuild;
  if (!esb) throw new Error('serverless.yml has no custom.esbuild: nothing to bundle the functions like');
  const keys = [
    'minify',
    'sourcemap',
    'platform',
    'target',
    'format',
    'mainFields',
    'banner',
    'keepNames',
    'external',
  ];
  const options = Object.fromEntries(keys.filter((k) => esb[k] !== undefined).map((k) => [k, esb[k]]));
  const nodeOptions = String(config.provider?.environment?.['NODE_OPTIONS'] ?? '');
  return { options: { bundle: true, ...options }, nodeOptions, source: 'serverless.yml custom.esbuild' };
}

export const SETTINGS = productionSettings();
export const BUNDLE: BuildOptions = { ...SETTINGS.options, legalComments: 'none', logLevel: 'silent' };

const functionNames = (): string[] =>
  readdirSync(join(ROOT, 'functions'))
    .filter((f) => existsSync(join(ROOT, 'functions', f, 'handler.ts')))
    .sort();

/** `@aws-sdk/*` value imports of the repo's own sources that went into a bundle. */
function sdkImports(metafile: Metafile): Map<string, Set<string>> {
  const byPackage = new Map<string, Set<string>>();
  for (const input of Object.keys(metafile.inputs)) {
    if (input.includes('node_modules') || !/\.(ts|js|mjs|cjs)$/.test(input)) continue;
    const source = readFileSync(join(ROOT, input), 'utf8');
    for (const m of source.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g)) {
      if (m[1]) continue;
      const names = (m[2] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && !s.startsWith('type '))
        .map((s) => s.split(/\s+as\s+/)[0] as string);
      const pkg = m[3] as string;
      const set = byPackage.get(pkg) ?? new Set<string>();
      names.forEach((n) => set.add(n));
      byPackage.set(pkg, set);
    }
  }
  return byPackage;
}

export function requiredEnv(fn: string): string[] {
  const source = readFileSync(join(ROOT, 'functions', fn, 'handler.ts'), 'utf8');
  const list = /REQUIRED_ENV\s*=\s*\[([^\]]*)\]/.exec(source)?.[1] ?? '';
  return [...list.matchAll(/'([A-Z0-9_]+)'/g)].map((m) => m[1] as string);
}

/** The zip the bundle ships in (bundle + its source map when there is one). */
function zipBytes(file: string): number {
  const zip = `${file}.zip`;
  rmSync(zip, { force: true });
  execFileSync('zip', [
    '-q',
    '-9',
    '-X',
    '-j',
    zip,
    file,
    ...(existsSync(`${file}.map`) ? [`${file}.map`] : []),
  ]);
  return statSync(zip).size;
}

/** Output bytes per npm package (or `repo`) of a bundle. */
function packageBytes(metafile: Metafile): Map<string, number> {
  const out = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'repo code';
      out.set(pkg, (out.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return out;
}

/** Milliseconds to import `file` in a fresh node process (process start excluded). */
function loadMs(file: string, env: Record<string, string>, nodeOptions = SETTINGS.nodeOptions): number {
  const code = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      AWS_REGION: 'eu-west-1',
      ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
      ...env,
    },
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`loading ${relative(ROOT, file)} failed: ${out.stderr.trim()}`);
  return Number(out.stdout);
}

export async function measureFunction(fn: string) {
  const dir = join(OUT, fn);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const entry = join(ROOT, 'functions', fn, 'handler.ts');
  if (BUNDLE.format !== 'esm')
    throw new Error('serverless.yml custom.esbuild: the functions ship as ESM (.mjs)');

  const bundled = join(dir, 'handler.mjs');
  const result = await build({ ...BUNDLE, entryPoints: [entry], outfile: bundled, metafile: true });
  const sdk = sdkImports(result.metafile);

  const floorEntry = join(dir, 'floor-entry.mjs');
  const imports = [...sdk.entries()].map(
    ([pkg, names], i) =>
      `import { ${[...names].map((n) => `${n} as s${i}_${n}`).join(', ')} } from '${pkg}';`,
  );
  const used = [...sdk.entries()].flatMap(([, names], i) => [...names].map((n) => `s${i}_${n}`));
  writeFileSync(floorEntry, `${imports.join('\n')}\nexport const used = [${used.join(', ')}];\n`);
  const floor = join(dir, 'floor.mjs');
  const floorResult = await build({ ...BUNDLE, entryPoints: [floorEntry], outfile: floor, metafile: true });
  const overFloor = packageBytes(result.metafile);
  for (const [pkg, bytes] of packageBytes(floorResult.metafile))
    overFloor.set(pkg, (overFloor.get(pkg) ?? 0) - bytes);
  const extras = [...overFloor].filter(([, b]) => b > 1024).sort((a, b) => b[1] - a[1]);

  // The other output format, same settings: how much the format choice alone changes the load time.
  const alt = join(dir, 'alt.cjs');
  await build({ ...BUNDLE, format: 'cjs', banner: {}, entryPoints: [entry], outfile: alt });
  // (b) unbundled: same code, transpiled into one ESM file, every package imported from node_modules.
  const unbundled = join(dir, 'unbundled.mjs');
  await build({ ...BUNDLE, minify: false, packages: 'external', entryPoints: [entry], outfile: unbundled });

  const env = Object.fromEntries(requiredEnv(fn).map((name) => [name, `bench-${name.toLowerCase()}`]));
  // What --enable-source-maps (set on the functions) costs at load: node reads and parses the map.
  const withMaps = SETTINGS.nodeOptions.includes('--enable-source-maps');
  const noMaps = SETTINGS.nodeOptions.replace('--enable-source-maps', '').trim();
  const variants: Record<string, () => number> = {
    bundled: () => loadMs(bundled, env),
    floor: () => loadMs(floor, env),
    unbundled: () => loadMs(unbundled, env),
    alt: () => loadMs(alt, env),
    ...(withMaps ? { noMaps: () => loadMs(bundled, env, noMaps) } : {}),
  };
  // Warm the OS file cache once, then interleave the variants (not tinybench's one task after the
  // other) so drift on a shared machine hits them alike; each time is measured inside the child.
  Object.values(variants).forEach((load) => load());
  const times: Record<string, number[]> = {};
  for (let i = 0; i < LOAD_RUNS; i++)
    for (const [name, load] of Object.entries(variants)) (times[name] ??= []).push(load());
  const med = (name: string) => median(times[name] ?? []);
  return {
    fn,
    bytes: statSync(bundled).size,
    zipBytes: zipBytes(bundled),
    loadMs: med('bundled'),
    floorBytes: statSync(floor).size,
    floorZipBytes: zipBytes(floor),
    floorLoadMs: med('floor'),
    unbundledLoadMs: med('unbundled'),
    altFormat: 'cjs',
    altLoadMs: med('alt'),
    altBytes: statSync(alt).size,
    noSourceMapsLoadMs: withMaps ? med('noMaps') : undefined,
    overFloorByPackage: Object.fromEntries(extras),
    sdk: Object.fromEntries([...sdk.entries()].map(([pkg, names]) => [pkg, [...names].sort()])),
  };
}

const topExtras = (byPackage: Record<string, number>): string => {
  const top = Object.entries(byPackage).slice(0, 3);
  return top.length === 0 ? '' : ` — ${top.map(([pkg, bytes]) => `${pkg} ${kb(bytes)}`).join(', ')}`;
};

/**
 * The zips `npm run package` ships (serverless-esbuild's archive, datasets/ included), by function
 * folder: packages offline when .serverless/ is stale (scripts/package.sh --if-stale), then reads the
 * report its scripts/bundle-sizes.cjs writes. Empty, with the reason, when packaging is unavailable.
 */
function deployedZips(): { zips: Map<string, number>; note?: string } {
  const out = spawnSync('bash', [join(ROOT, 'scripts', 'package.sh'), '--if-stale'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (out.status !== 0)
    return {
      zips: new Map(),
      note: `npm run package failed: ${(out.stderr || out.stdout).trim().slice(-300)}`,
    };
  const report = JSON.parse(readFileSync(join(ROOT, '.serverless', 'bundle-sizes.json'), 'utf8')) as {
    functions: Array<{ handler: string; zipBytes: number }>;
  };
  const zips = new Map<string, number>();
  for (const f of report.functions) {
    const folder = /^functions\/([^/]+)\/handler\./.exec(f.handler)?.[1];
    if (folder) zips.set(folder, f.zipBytes);
  }
  return { zips };
}

export const bundleSuite: Suite = {
  name: 'bundle',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const deployed = deployedZips();
    for (const fn of functionNames()) {
      const m = await measureFunction(fn);
      const shipped = deployed.zips.get(fn);
      const overFloor = m.bytes - m.floorBytes;
      const loadRatio = m.loadMs / m.unbundledLoadMs;
      rows.push({
        benchmark: 'bundle',
        case: fn,
        measured:
          `${kb(m.bytes)} minified, ${kb(m.zipBytes)} zipped with its map` +
          `${shipped === undefined ? '' : ` (${kb(shipped)} as npm run package ships it)`}, load ${fmt(m.loadMs, 1)} ms ` +
          `(floor + ${kb(overFloor)}${topExtras(m.overFloorByPackage)}; ${fmt(loadRatio, 2)} × unbundled` +
          `${m.noSourceMapsLoadMs === undefined ? '' : `; ${fmt(m.noSourceMapsLoadMs, 1)} ms without --enable-source-maps`}` +
          `; as ${m.altFormat}: load ${fmt(m.altLoadMs, 1)} ms)`,
        baseline:
          `(a) floor [${
            Object.keys(m.sdk)
              .map((p) => p.replace('@aws-sdk/', ''))
              .join(', ') || 'no SDK'
          }]: ${kb(m.floorBytes)}, ${kb(m.floorZipBytes)} zipped, load ${fmt(m.floorLoadMs, 1)} ms; ` +
          `(b) unbundled: load ${fmt(m.unbundledLoadMs, 1)} ms`,
        target: `≤ floor + 60 KB; load ≤ ${LOAD_RATIO_TARGET} × unbundled`,
        met: overFloor <= FLOOR_SLACK_BYTES && loadRatio <= LOAD_RATIO_TARGET,
        values: {
          settings: SETTINGS.source,
          nodeOptions: SETTINGS.nodeOptions,
          format: BUNDLE.format,
          bytes: m.bytes,
          zipBytes: m.zipBytes,
          packagedZipBytes: shipped ?? null,
          ...(deployed.note ? { packagedZipNote: deployed.note } : {}),
          loadMs: m.loadMs,
          overFloorBytes: overFloor,
          loadRatio,
          otherFormat: { format: m.altFormat, bytes: m.altBytes, loadMs: m.altLoadMs },
          noSourceMapsLoadMs: m.noSourceMapsLoadMs,
          overFloorByPackage: m.overFloorByPackage,
          sdk: m.sdk,
        },
        baselineValues: {
          floorBytes: m.floorBytes,
          floorZipBytes: m.floorZipBytes,
          floorLoadMs: m.floorLoadMs,
          unbundledLoadMs: m.unbundledLoadMs,
        },
        runs: LOAD_RUNS,
      });
    }
    return rows;
  },
};
