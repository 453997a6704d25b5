import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { MedallionError } from '../shared/domain/errors';
import { GLUE_ARGS, GLUE_TEMP_DIR } from '../shared/domain/glue-args';
import { manifestSchema } from '../shared/domain/manifest';
import type { DatasetPlan } from '../shared/domain/sql';
import type { JobOutcome } from './glue-runner';

/**
 * The Glue jobs on local Spark: the real job scripts (glue/medallion_<stage>.py, the files that are
 * deployed) run by `glue/local/spark_jobs.py` in one long-lived Python process (pyspark 3.5.6 from the
 * project's .venv, Glue 5.1's Spark), so Spark starts once however many runs follow. Requests and
 * answers are JSON lines over the process's stdin/stdout; runs are sequential.
 */

/**
 * The Glue job failed on Spark: `errorClass` is the Python error class the job raised, as Glue reports
 * it, and the message starts with it once (the job's own errors already name their class).
 */
export class SparkJobError extends MedallionError {
  readonly retryable = false;
  constructor(
    readonly errorClass: string,
    message: string,
  ) {
    super(message.startsWith(`${errorClass}: `) ? message : `${errorClass}: ${message}`);
  }
}

/** Spark could not be started or stopped answering (no .venv, no Java, a crash). */
export class SparkUnavailableError extends MedallionError {
  readonly retryable = false;
}

/** The Python of the project's environment (scripts/pyenv.sh), or MEDALLION_PYTHON. */
export function sparkPython(): string {
  const python = process.env['MEDALLION_PYTHON'] ?? resolve('.venv', 'bin', 'python');
  if (!existsSync(python))
    throw new SparkUnavailableError(
      `${python} is missing: run 'bash scripts/pyenv.sh' (npm test does it first) to install pyspark 3.5.6, and a Java 17 runtime`,
    );
  return python;
}

export interface SparkColumn {
  readonly name: string;
  /** Spark's simple type string: string, int, bigint, decimal(14,2), timestamp, ... */
  readonly type: string;
}

/** Spark's verdict on one compiled statement: its result columns, or the parser's/analyser's error. */
export type StatementCheck =
  | { readonly ok: true; readonly columns: SparkColumn[] }
  | { readonly ok: false; readonly error: string; readonly message: string };

type Answer =
  | { id: string; ok: true; manifest?: unknown; statements?: Record<string, StatementCheck> }
  | { id: string; ok: false; error: string; message: string };

export class SparkGlue {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly ready: Promise<void>;
  private readonly waiting = new Map<string, (answer: Answer) => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private stderrTail = '';
  private exited: string | undefined;

  private constructor(python: string, options: { readonly logs?: (line: string) => void }) {
    this.child = spawn(python, [resolve('glue', 'local', 'spark_jobs.py')], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
      if (options.logs) for (const line of chunk.split('\n')) if (line) options.logs(line);
    });
    const lines = createInterface({ input: this.child.stdout });
    let started: () => void = () => undefined;
    let failed: (error: Error) => void = () => undefined;
    this.ready = new Promise<void>((ok, fail) => {
      started = ok;
      failed = fail;
    });
    lines.on('line', (line) => {
      const message = JSON.parse(line) as Answer | { ready: true };
      if ('ready' in message) return started();
      const resolveAnswer = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      resolveAnswer?.(message);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `the Spark job process exited (${signal ?? `code ${String(code)}`}): ${this.stderrTail.trim().split('\n').slice(-5).join(' | ')}`;
      failed(new SparkUnavailableError(this.exited));
      for (const [id, resolveAnswer] of this.waiting) {
        resolveAnswer({ id, ok: false, error: 'SparkUnavailableError', message: this.exited });
      }
      this.waiting.clear();
    });
    this.child.on('error', (error) => failed(new SparkUnavailableError(error.message)));
  }

  /** Starts the Spark job process (Spark itself starts in the background; the first request waits). */
  static start(
    options: { readonly python?: string; readonly logs?: (line: string) => void } = {},
  ): SparkGlue {
    return new SparkGlue(options.python ?? sparkPython(), options);
  }

  /** Resolves once Spark has started (rejects if it cannot start). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private request(body: Record<string, unknown>): Promise<Answer> {
    const next = this.queue.then(async () => {
      await this.ready;
      if (this.exited) throw new SparkUnavailableError(this.exited);
      const id = randomUUID();
      const answer = new Promise<Answer>((ok) => this.waiting.set(id, ok));
      this.child.stdin.write(`${JSON.stringify({ id, ...body })}\n`);
      return answer;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Runs one stage's Glue script with the job arguments (`--name` keys) as Glue passes them: the run's
   * own, Glue's `--JOB_RUN_ID`, and the job's `--TempDir` (a `file://` folder; a default argument of
   * every deployed job).
   */
  async runJob(
    args: Readonly<Record<string, string>>,
    options: { readonly tempDir?: string } = {},
  ): Promise<JobOutcome> {
    const stage = args[GLUE_ARGS.stage];
    const jobRunId = `jr_spark_${randomUUID().replace(/-/g, '')}`;
    const glue = {
      ...args,
      '--JOB_RUN_ID': jobRunId,
      ...(options.tempDir ? { [GLUE_TEMP_DIR]: options.tempDir } : {}),
    };
    const answer = await this.request({ stage, args: glue });
    if (!answer.ok) throw new SparkJobError(answer.error, answer.message);
    return { jobRunId, manifest: manifestSchema.parse(answer.manifest) };
  }

  /**
   * Spark's parser and analyser over every compiled statement of a plan, on empty frames shaped as
   * the bronze job writes them: each statement's result columns, or its error.
   */
  async checkPlan(plan: DatasetPlan): Promise<Record<string, StatementCheck>> {
    const answer = await this.request({ check: plan });
    if (!answer.ok) throw new SparkJobError(answer.error, answer.message);
    return answer.statements ?? {};
  }

  /**
   * Writes a CDC dataset's current state as the local Spark engine keeps it (an Iceberg table in the
   * lake's Hadoop catalog, glue/medallion_glue/cdc.py), tombstones included, as Parquet to `to`.
   */
  async exportIcebergTable(p: {
    readonly lake: string;
    readonly database: string;
    readonly table: string;
    readonly to: string;
  }): Promise<void> {
    const answer = await this.request({ export: p });
    if (!answer.ok) throw new SparkJobError(answer.error, answer.message);
  }

  /** Ends the process (and Spark with it). */
  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((ok) => this.child.once('exit', () => ok()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await done;
    clearTimeout(timer);
  }
}
