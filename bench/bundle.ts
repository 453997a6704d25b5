import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { parseDocument } from 'yaml';
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

/** Used when serverless.yml is absent or has no `custom.esbuild`. */
const DEFAULT_BUNDLE: BuildOptions = {
  bundle: true,
  minify: true,
  sourcemap: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
};

/**
 * The production bundle settings: serverless.yml's `custom.esbuild` (what serverless-esbuild builds
 * the Lambda zips with) and the functions' NODE_OPTIONS, so the benchmark measures what ships.
 */
function productionSettings(): { options: BuildOptions; nodeOptions: string; source: string } {
  const file = join(ROOT, 'serverless.yml');
  if (!existsSync(file))
    return { options: DEFAULT_BUNDLE, nodeOptions: '', source: 'defaults (no serverless.yml)' };
  // CloudFormation tags (!Ref, !GetAtt...) are not YAML core tags: keep them as plain values.
  const doc = parseDocument(readFileSync(file, 'utf8'), {
    customTags: [
      'Ref',
      'GetAtt',
      'Sub',
      'Join',
      'If',
      'Equals',
      'Not',
      'Select',
      'Split',
      'ImportValue',
      'FindInMap',
      'GetAZs',
      'Base64',
      'Cidr',
      'And',
      'Or',
      'Condition',
    ].flatMap((tag) => [
      { tag: `!${tag}`, resolve: (v: string) => v },
      { tag: `!${tag}`, collection: 'seq' as const, resolve: (v: unknown) => v },
      { tag: `!${tag}`, collection: 'map' as const, resolve: (v: unknown) => v },
    ]),
    logLevel: 'silent',
  });
  const config = doc.toJS() as {
    custom?: { esbuild?: Record<string, unknown> };
    provider?: { environment?: Record<string, unknown> };
  };
  const esb = config.custom?.esbuild;
  if (!esb)
    return {
      options: DEFAULT_BUNDLE,
      nodeOptions: '',
      source: 'defaults (serverless.yml has no custom.esbuild)',
    };
  const pick = <K extends keyof BuildOptions>(key: K): Partial<BuildOptions> =>
    esb[key] === undefined ? {} : { [key]: esb[key] as BuildOptions[K] };
  const options: BuildOptions = {
    bundle: true,
    ...pick('minify'),
    ...pick('sourcemap'),
    ...pick('platform'),
    ...pick('target'),
    ...pick('format'),
    ...pick('mainFields'),
    ...pick('banner'),
    ...pick('keepNames'),
    ...pick('external'),
  };
  const nodeOptions = String(config.provider?.environment?.['NODE_OPTIONS'] ?? '');
  return { options, nodeOptions, source: 'serverless.yml custom.esbuild' };
}

export const SETTINGS = productionSettings();
export const BUNDLE: BuildOptions = { ...SETTINGS.options, legalComments: 'none', logLevel: 'silent' };

/** ESM output needs `require` for the CommonJS packages it inlines. */
const formatOptions = (format: 'esm' | 'cjs'): BuildOptions =>
  format === 'esm'
    ? {
        format,
        banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
      }
    : { format, banner: {} };

const functionNames = (): string[] =>
  existsSync(join(ROOT, 'functions'))
    ? readdirSync(join(ROOT, 'functions'))
        .filter((f) => existsSync(join(ROOT, 'functions', f, 'handler.ts')))
        .sort()
    : [];

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

export interface FunctionBundle {
  fn: string;
  bytes: number;
  zipBytes: number;
  loadMs: number;
  floorBytes: number;
  floorZipBytes: number;
  floorLoadMs: number;
  unbundledLoadMs: number;
  altFormat: string;
  altLoadMs: number;
  altBytes: number;
  noSourceMapsLoadMs: number | undefined;
  overFloorByPackage: Record<string, number>;
  sdk: Record<string, string[]>;
}

export async function measureFunction(fn: string): Promise<FunctionBundle> {
  const dir = join(OUT, fn);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const entry = join(ROOT, 'functions', fn, 'handler.ts');

  const bundled = join(dir, BUNDLE.format === 'esm' ? 'handler.mjs' : 'handler.cjs');
  const result = await build({ ...BUNDLE, entryPoints: [entry], outfile: bundled, metafile: true });
  const sdk = sdkImports(result.metafile);

  const floorEntry = join(dir, 'floor-entry.mjs');
  const imports = [...sdk.entries()].map(
    ([pkg, names], i) =>
      `import { ${[...names].map((n) => `${n} as s${i}_${n}`).join(', ')} } from '${pkg}';`,
  );
  const used = [...sdk.entries()].flatMap(([, names], i) => [...names].map((n) => `s${i}_${n}`));
  writeFileSync(floorEntry, `${imports.join('\n')}\nexport const used = [${used.join(', ')}];\n`);
  const floor = join(dir, BUNDLE.format === 'esm' ? 'floor.mjs' : 'floor.cjs');
  const floorResult = await build({ ...BUNDLE, entryPoints: [floorEntry], outfile: floor, metafile: true });
  const overFloor = packageBytes(result.metafile);
  for (const [pkg, bytes] of packageBytes(floorResult.metafile))
    overFloor.set(pkg, (overFloor.get(pkg) ?? 0) - bytes);
  const extras = [...overFloor].filter(([, b]) => b > 1024).sort((a, b) => b[1] - a[1]);

  // The other output format, same settings: how much the format choice alone changes the load time.
  const altFormat = BUNDLE.format === 'esm' ? 'cjs' : 'esm';
  const alt = join(dir, altFormat === 'esm' ? 'alt.mjs' : 'alt.cjs');
  await build({ ...BUNDLE, ...formatOptions(altFormat), entryPoints: [entry], outfile: alt });
  const altBytes = statSync(alt).size;

  // (b) unbundled: same code, transpiled into one ESM file, every package imported from node_modules.
  const unbundled = join(dir, 'unbundled.mjs');
  await build({
    ...BUNDLE,
    ...formatOptions('esm'),
    minify: false,
    packages: 'external',
    entryPoints: [entry],
    outfile: unbundled,
  });

  const env = Object.fromEntries(requiredEnv(fn).map((name) => [name, `bench-${name.toLowerCase()}`]));
  // Warm the OS file cache once, then interleave the variants so drift hits all three alike.
  for (const f of [bundled, floor, unbundled, alt]) loadMs(f, env);
  // What --enable-source-maps (set on the functions) costs at load: node reads and parses the map.
  const withMaps = SETTINGS.nodeOptions.includes('--enable-source-maps');
  const times = {
    bundled: [] as number[],
    floor: [] as number[],
    unbundled: [] as number[],
    alt: [] as number[],
    noMaps: [] as number[],
  };
  for (let i = 0; i < LOAD_RUNS; i++) {
    times.bundled.push(loadMs(bundled, env));
    times.floor.push(loadMs(floor, env));
    times.unbundled.push(loadMs(unbundled, env));
    times.alt.push(loadMs(alt, env));
    if (withMaps)
      times.noMaps.push(
        loadMs(bundled, env, SETTINGS.nodeOptions.replace('--enable-source-maps', '').trim()),
      );
  }
  return {
    fn,
    bytes: statSync(bundled).size,
    zipBytes: zipBytes(bundled),
    loadMs: median(times.bundled),
    floorBytes: statSync(floor).size,
    floorZipBytes: zipBytes(floor),
    floorLoadMs: median(times.floor),
    unbundledLoadMs: median(times.unbundled),
    altFormat,
    altLoadMs: median(times.alt),
    altBytes,
    noSourceMapsLoadMs: withMaps ? median(times.noMaps) : undefined,
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
  const script = join(ROOT, 'scripts', 'package.sh');
  if (!existsSync(script)) return { zips: new Map(), note: 'no scripts/package.sh' };
  const out = spawnSync('bash', [script, '--if-stale'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
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
