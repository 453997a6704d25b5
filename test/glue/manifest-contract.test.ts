import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FORMAT_EXTENSIONS, STAGES, type Stage } from '../../shared/domain/datasets';
import { GLUE_ARGS, glueArguments } from '../../shared/domain/glue-args';
import { manifestKey, zoneKey } from '../../shared/domain/layout';
import { MANIFEST_VERSION, manifestSchema } from '../../shared/domain/manifest';
import {
  compilePlan,
  INGESTED_AT,
  PLAN_VERSION,
  QUARANTINE_REASONS,
  SOURCE_FILE,
} from '../../shared/domain/sql';
import { shippedRegistry } from '../helpers/registry';
import { runPython } from './python';
import { CDC_DELETED, CDC_TARGET } from '../../shared/domain/cdc';

/**
 * One contract, both sides: the Glue scripts' Python package and the TypeScript domain agree on the job
 * arguments, the lake layout and the run manifest.
 */

interface StageRun {
  stage: Stage;
  startedAt: string;
  completedAt: string;
  recordsIn: number;
  recordsOut: number;
  recordsQuarantined: number;
}
const runs = JSON.parse(
  readFileSync(join(process.cwd(), 'test/glue/fixtures/stage-runs.json'), 'utf8'),
) as StageRun[];

const orders = shippedRegistry().get('orders');
const planFile = join(mkdtempSync(join(tmpdir(), 'medallion-plan-')), 'orders.json');
writeFileSync(planFile, JSON.stringify(compilePlan(orders)));

/** Parses the TypeScript-built job arguments with the Glue package and builds the stage's manifest. */
const BUILD_MANIFEST = `
import json, sys
from medallion_glue.args import check_against_plan, parse_job_args
from medallion_glue.manifest import build_manifest, output_partition
from medallion_glue.plan import parse_plan
job = json.load(sys.stdin)
resolved = {name[2:]: value for name, value in job["arguments"].items()}
resolved["JOB_RUN_ID"] = "jr_5f1c0ffee"
run = job["run"]
args = parse_job_args(resolved, run["stage"])
plan = parse_plan(open(job["planFile"], "rb").read(), args.plan.uri)
check_against_plan(args, plan)
partitions = [output_partition(plan.tables[run["stage"]], args.partition_values, args.target.uri)]
quarantined = run["recordsQuarantined"] > 0
if quarantined:
    partitions.append(output_partition(plan.tables["quarantine"], args.partition_values, args.quarantine.uri))
print(json.dumps(build_manifest(args, started_at=run["startedAt"], completed_at=run["completedAt"],
    records_in=run["recordsIn"], records_out=run["recordsOut"], records_quarantined=run["recordsQuarantined"],
    output_partitions=partitions, quarantine_location=args.quarantine.uri if quarantined else None)))
`;

describe('the manifest built by the Glue package', () => {
  const roots = [
    ['s3', 's3://shop-lake-123456789012/'],
    ['file', 'file:///var/lake/'],
  ] as const;

  test.each(roots.flatMap(([scheme, root]) => runs.map((run) => [run.stage, scheme, root, run] as const)))(
    '%s on %s validates against manifestSchema',
    (stage, _scheme, lakeRoot, run) => {
      // Prepare: the arguments the state machine / local runtime pass
      const args = glueArguments({
        lakeRoot,
        planLocation: `${lakeRoot}_artifacts/plans/orders.json`,
        dataset: 'orders',
        catalogDatabase: orders.catalog.database,
        landingPrefix: orders.landing.prefix,
        stage,
        runId: 'orders-2024-01-15-0123456789abcdef',
        partitionPath: 'year=2024/month=01/day=15',
        partitionValues: ['2024', '01', '15'],
      });
      // Act
      const manifest = runPython<unknown>(BUILD_MANIFEST, { arguments: args, run, planFile });
      // Assess
      const parsed = manifestSchema.parse(manifest);
      expect(parsed.stage).toBe(stage);
      expect(parsed.jobRunId).toBe('jr_5f1c0ffee');
      expect(parsed.outputPartitions[0]).toEqual({
        table: orders.catalog.tables[stage],
        values: ['2024', '01', '15'],
        location: args[GLUE_ARGS.targetLocation],
      });
      expect(parsed.quarantineLocation).toBe(
        run.recordsQuarantined > 0 ? args[GLUE_ARGS.quarantineLocation] : null,
      );
    },
  );
});

describe('the two manifest validators agree', () => {
  const valid = {
    version: 1,
    dataset: 'orders',
    stage: 'silver',
    runId: 'orders-2024-01-15-abc',
    jobRunId: 'jr_1',
    startedAt: '2024-01-15T10:00:00.000Z',
    completedAt: '2024-01-15T10:05:00Z',
    recordsIn: 10,
    recordsOut: 7,
    recordsQuarantined: 3,
    outputPartitions: [{ table: 'orders_silver', values: ['2024', '01', '15'], location: 's3://b/silver/' }],
    quarantineLocation: null,
  };
  const variants: Array<[string, Record<string, unknown>]> = [
    ['valid', {}],
    ['gold may output more rows than it reads', { stage: 'gold', recordsOut: 50 }],
    ['rows invented', { recordsOut: 8 }],
    ['version 2', { version: 2 }],
    ['unknown stage', { stage: 'platinum' }],
    ['empty runId', { runId: '' }],
    ['datetime without zone', { startedAt: '2024-01-15T10:00:00' }],
    ['datetime with offset', { startedAt: '2024-01-15T10:00:00+01:00' }],
    ['datetime without seconds', { completedAt: '2024-01-15T10:05Z' }],
    ['impossible date', { startedAt: '2023-02-29T10:00:00Z' }],
    ['leap day', { startedAt: '2024-02-29T10:00:00.5Z' }],
    ['negative count', { recordsQuarantined: -1 }],
    ['fractional count', { recordsIn: 10.5 }],
    ['count as string', { recordsIn: '10' }],
    ['unknown key', { durationMs: 5 }],
    ['no partition values', { outputPartitions: [{ table: 't', values: [], location: 'l' }] }],
    ['empty partition value', { outputPartitions: [{ table: 't', values: [''], location: 'l' }] }],
    ['extra partition key', { outputPartitions: [{ table: 't', values: ['1'], location: 'l', x: 1 }] }],
    ['empty quarantine location', { quarantineLocation: '' }],
    ['quarantine location set', { quarantineLocation: 's3://b/quarantine/' }],
    ['skipped files', { skippedFiles: [{ file: 's3://b/landing/x.csv', reason: 'empty file (0 bytes)' }] }],
    ['no skipped files', { skippedFiles: [] }],
    ['skipped file without reason', { skippedFiles: [{ file: 's3://b/landing/x.csv' }] }],
    ['skipped file with an extra key', { skippedFiles: [{ file: 'f', reason: 'r', size: 0 }] }],
    ['skipped files not a list', { skippedFiles: 'x.csv' }],
    [
      'schema drift',
      { schemaDrift: [{ file: 's3://b/landing/x.csv', undeclared: ['Extra'], missing: ['amount'] }] },
    ],
    ['schema drift of JSON keys only', { schemaDrift: [{ file: 'f', undeclared: ['k'], missing: [] }] }],
    [
      'schema drift with an empty column name',
      { schemaDrift: [{ file: 'f', undeclared: [''], missing: [] }] },
    ],
    ['schema drift without missing', { schemaDrift: [{ file: 'f', undeclared: ['k'] }] }],
    ['schema drift with an extra key', { schemaDrift: [{ file: 'f', undeclared: [], missing: [], n: 1 }] }],
    ['source files', { sourceFiles: [{ key: 'landing/x/a.csv', size: 10, eTag: '9b2cf535f27731c9-2' }] }],
    ['no source files', { sourceFiles: [] }],
    ['empty source file', { sourceFiles: [{ key: 'landing/x/a.csv', size: 0, eTag: 'd41d8cd98f00b204' }] }],
    ['source file without eTag', { sourceFiles: [{ key: 'landing/x/a.csv', size: 10 }] }],
    ['source file with an empty key', { sourceFiles: [{ key: '', size: 10, eTag: 'e' }] }],
    ['source file with a negative size', { sourceFiles: [{ key: 'k', size: -1, eTag: 'e' }] }],
    ['source file with a fractional size', { sourceFiles: [{ key: 'k', size: 1.5, eTag: 'e' }] }],
    ['source file with an extra key', { sourceFiles: [{ key: 'k', size: 1, eTag: 'e', versionId: 'v' }] }],
    ['source files not a list', { sourceFiles: { key: 'k' } }],
  ];

  test('on every sample, valid or not', () => {
    // Prepare
    const samples = variants.map(([, override]) => ({ ...valid, ...override }));
    // Act
    const python = runPython<boolean[]>(
      'import json, sys\nfrom medallion_glue.manifest import manifest_problems\n' +
        'print(json.dumps([not manifest_problems(m) for m in json.load(sys.stdin)]))',
      samples,
    );
    const zod = samples.map((m) => manifestSchema.safeParse(m).success);
    // Assess: same verdicts, and the samples do exercise both verdicts
    expect(variants.map(([name], i) => [name, python[i]])).toEqual(
      variants.map(([name], i) => [name, zod[i]]),
    );
    expect(zod.filter(Boolean).length).toBeGreaterThan(2);
    expect(zod.filter((ok) => !ok).length).toBeGreaterThan(10);
  });
});

describe('shared constants', () => {
  test('the Glue package reads the same argument names, formats, stages, versions and columns', () => {
    // Act
    const python = runPython<Record<string, unknown>>(
      'import json\nfrom medallion_glue import contract as c\n' +
        'print(json.dumps({"args": list(c.JOB_ARGS), "formats": {k: list(v) for k, v in c.FORMAT_EXTENSIONS.items()},' +
        ' "stages": list(c.STAGES), "manifest": c.MANIFEST_VERSION, "plan": c.PLAN_VERSION,' +
        ' "columns": [c.INGESTED_AT, c.SOURCE_FILE, c.QUARANTINE_REASONS]}))',
    );
    // Assess
    expect(python).toEqual({
      args: Object.values(GLUE_ARGS).map((a) => a.slice(2)),
      formats: FORMAT_EXTENSIONS,
      stages: [...STAGES],
      manifest: MANIFEST_VERSION,
      plan: PLAN_VERSION,
      columns: [INGESTED_AT, SOURCE_FILE, QUARANTINE_REASONS],
    });
  });

  test('CDC: the tombstone column and the merge target token are the same on both sides', () => {
    const python = runPython<string[]>(
      'import json\nfrom medallion_glue import cdc\nprint(json.dumps([cdc.CDC_DELETED, cdc.CDC_TARGET]))',
    );
    expect(python).toEqual([CDC_DELETED, CDC_TARGET]);
  });

  test('the lake layout keys are the same on both sides', () => {
    const python = runPython<string[]>(
      'import json\nfrom medallion_glue.locations import manifest_key, zone_key\n' +
        'print(json.dumps([zone_key("quarantine", "orders", "year=2024"), manifest_key("orders", "gold", "run-1")]))',
    );
    expect(python).toEqual([
      zoneKey('quarantine', 'orders', 'year=2024'),
      manifestKey('orders', 'gold', 'run-1'),
    ]);
  });
});
