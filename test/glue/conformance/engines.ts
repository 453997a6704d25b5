import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadRegistry } from '../../../shared/config/registry';
import type { Dataset, Stage } from '../../../shared/domain/datasets';
import { glueArguments } from '../../../shared/domain/glue-args';
import { compilePlan, type DatasetPlan } from '../../../shared/domain/sql';
import { Duck, sqlString } from '../../../local/duck';
import { fileUri, runGlueJob } from '../../../local/glue-runner';
import type { SparkGlue } from '../../../local/spark-glue';

/**
 * Runs one landing partition through both Glue engines: the DuckDB runner (local/glue-runner.ts)
 * and the real Glue scripts on Spark (SparkGlue), each in its own lake, and reads back what each wrote
 * in a form that can be compared exactly.
 */

export interface LandingFile {
  readonly name: string;
  readonly content: string | Buffer;
}

export interface Case {
  /** What the case is about (the test name). */
  readonly name: string;
  readonly dataset: string;
  readonly files: readonly LandingFile[];
  /** Bronze's expected schema drift (manifest schemaDrift by file name), or 'refused' when bronze must fail. */
  readonly drift?: StageOutcome['drift'] | 'refused';
  /** Gold SQL variants (with their column contract) run over the case's silver rows (default: the dataset's own). */
  readonly gold?: ReadonlyArray<{ readonly sql: string; readonly columns: Dataset['gold']['columns'] }>;
}

export interface StageOutcome {
  readonly ok: boolean;
  readonly counts?: { recordsIn: number; recordsOut: number; recordsQuarantined: number };
  /** Bronze: the manifest's schemaDrift, each file by its name in the partition. */
  readonly drift?: ReadonlyArray<{ file: string; undeclared: readonly string[]; missing: readonly string[] }>;
  /** The engine's error, kept for the report; engines name and word errors differently, so not compared. */
  readonly error?: string;
}

export interface EngineResult {
  readonly stages: Partial<Record<Stage | `gold#${number}`, StageOutcome>>;
  readonly zones: Record<string, { schema: string[]; rows: string[] } | null>;
}

type Engine = 'duckdb' | 'spark';

/** A lake per engine, the datasets' plans written into it. */
export class ConformanceLake {
  readonly root: string;
  constructor(
    readonly engine: Engine,
    private readonly spark: SparkGlue | undefined,
  ) {
    this.root = mkdtempSync(join(tmpdir(), `medallion-conformance-${engine}-`));
  }

  planFile(plan: DatasetPlan, variant: number): string {
    const file = join(this.root, '_system', 'plans', `${plan.dataset.name}.${variant}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(plan));
    return fileUri(file, false);
  }

  private async run(args: Record<string, string>): Promise<StageOutcome> {
    try {
      const { manifest } =
        this.engine === 'duckdb'
          ? await runGlueJob(args)
          : await (this.spark as SparkGlue).runJob(args, {
              tempDir: fileUri(join(this.root, '_system', 'tmp')),
            });
      return {
        ok: true,
        counts: {
          recordsIn: manifest.recordsIn,
          recordsOut: manifest.recordsOut,
          recordsQuarantined: manifest.recordsQuarantined,
        },
        ...(manifest.schemaDrift
          ? {
              drift: manifest.schemaDrift.map((d) => ({
                ...d,
                file: d.file.slice(d.file.lastIndexOf('/') + 1),
              })),
            }
          : {}),
      };
    } catch (error) {
      return { ok: false, error: (error as Error).name };
    }
  }

  /**
   * Lands the files in partition `values`, runs bronze, silver, then each gold variant. `bronzeDataset`:
   * bronze runs with this (older) definition of the dataset, as when a column was declared after the
   * partition's bronze was written.
   */
  async runCase(
    dataset: Dataset,
    c: Case,
    values: readonly string[],
    bronzeDataset?: Dataset,
  ): Promise<EngineResult> {
    const partitionPath = dataset.partitionKeys.map((k, i) => `${k.name}=${values[i] ?? ''}`).join('/');
    const landing = join(
      this.root,
      ...dataset.landing.prefix.split('/').filter(Boolean),
      ...partitionPath.split('/'),
    );
    mkdirSync(landing, { recursive: true });
    for (const file of c.files) writeFileSync(join(landing, file.name), file.content);
    const golds = c.gold ?? [{ sql: dataset.goldSql, columns: dataset.gold.columns }];
    const plans = golds.map((g, i) =>
      this.planFile(
        compilePlan({ ...dataset, goldSql: g.sql, gold: { ...dataset.gold, columns: g.columns } }),
        i,
      ),
    );
    const bronzePlan = bronzeDataset ? this.planFile(compilePlan(bronzeDataset), 99) : undefined;
    const args = (stage: Stage, variant = 0) =>
      glueArguments({
        lakeRoot: fileUri(this.root),
        planLocation: (stage === 'bronze' ? bronzePlan : undefined) ?? plans[variant] ?? '',
        dataset: dataset.name,
        catalogDatabase: dataset.catalog.database,
        landingPrefix: dataset.landing.prefix,
        stage,
        runId: `conformance-${values.join('-')}`,
        partitionPath,
        partitionValues: values,
      });
    const stages: EngineResult['stages'] = {};
    const zones: EngineResult['zones'] = {};
    stages.bronze = await this.run(args('bronze'));
    if (stages.bronze.ok) stages.silver = await this.run(args('silver'));
    if (stages.silver?.ok) {
      zones['silver'] = await this.read('silver', dataset.name, partitionPath);
      zones['quarantine'] = await this.read('quarantine', dataset.name, partitionPath);
      for (const [i] of golds.entries()) {
        const outcome = await this.run(args('gold', i));
        stages[`gold#${i}`] = outcome;
        zones[`gold#${i}`] = outcome.ok ? await this.read('gold', dataset.name, partitionPath) : null;
      }
    }
    zones['bronze'] = stages.bronze.ok ? await this.read('bronze', dataset.name, partitionPath) : null;
    return { stages, zones };
  }

  /**
   * A zone partition's Parquet as DuckDB reads it: column names and types, and every row as JSON text
   * with values cast to text (sorted; `_ingested_at` left out, `_source_file` made lake-relative).
   */
  private async read(
    zone: string,
    dataset: string,
    partitionPath: string,
  ): Promise<{ schema: string[]; rows: string[] } | null> {
    const folder = join(this.root, zone, dataset, ...partitionPath.split('/'));
    const duck = await Duck.open();
    try {
      const from = `read_parquet(${sqlString(join(folder, '*.parquet'))}, hive_partitioning = false)`;
      let described;
      try {
        described = await duck.rows(`DESCRIBE SELECT * FROM ${from}`);
      } catch {
        return null; // no Parquet: an empty quarantine the DuckDB runner removes, Spark writes empty
      }
      const schema = described.map((r) => `${String(r['column_name'])} ${String(r['column_type'])}`);
      const names = described.map((r) => String(r['column_name'])).filter((n) => n !== '_ingested_at');
      const root = fileUri(this.root);
      const rows = await duck.rows(
        `SELECT ${names.map((n) => (n === '_source_file' ? `replace(${n}, ${sqlString(root)}, '') AS ${n}` : `CAST(${n} AS VARCHAR) AS ${n}`)).join(', ')} FROM ${from}`,
      );
      // No rejected rows: the DuckDB runner removes the quarantine partition, Spark writes it empty.
      if (zone === 'quarantine' && rows.length === 0) return null;
      return { schema, rows: rows.map((r) => JSON.stringify(r)).sort() };
    } finally {
      duck.close();
    }
  }
}

/** Loads datasets from `folder` (dataset.yml + gold.sql per dataset). */
export function conformanceDatasets(folder: string): Map<string, Dataset> {
  return new Map(loadRegistry(folder).datasets.map((d) => [d.name, d]));
}

export const readText = (path: string): string => readFileSync(path, 'utf8');
