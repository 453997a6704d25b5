import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RunInput } from '../shared/domain/run';
import type { ExecutionStatus, ExecutionStatusReader, RunStarter, StartResult } from '../shared/ports';
import { SystemLock } from './system-lock';

export interface LocalExecutionRecord {
  readonly name: string;
  readonly executionArn: string;
  readonly input: RunInput;
  readonly startedAt: string;
}

export const LOCAL_STATE_MACHINE_ARN = 'arn:aws:states:local:000000000000:stateMachine:medallion-pipeline';

/**
 * The local twin of StartExecution: names are unique (a second start of a name reports
 * `already-started`, like ExecutionAlreadyExists), every start is appended to `executions.jsonl`,
 * and `run` (the local pipeline runtime) is handed the execution.
 */
export class LocalRunStarter implements RunStarter, ExecutionStatusReader {
  private readonly names = new Set<string>();

  /**
   * `statusOf`: the local runtime's history (an execution started but not yet recorded there is
   * queued: RUNNING).
   */
  constructor(
    private readonly journal: string,
    private readonly run: (execution: LocalExecutionRecord) => void = () => undefined,
    private readonly statusOf: (name: string) => ExecutionStatus | undefined = () => undefined,
  ) {
    this.readJournal();
  }

  /** The names in the journal: another process on the lake may have started executions since. */
  private readJournal(): void {
    try {
      for (const line of readFileSync(this.journal, 'utf8').split('\n')) {
        if (line.trim()) this.names.add((JSON.parse(line) as LocalExecutionRecord).name);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async start({ name, input }: { name: string; input: RunInput }): Promise<StartResult> {
    const executionArn = `${LOCAL_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
    // The name is checked and recorded under the lake's lock: two processes never start one name.
    const record = await SystemLock.of(this.journal).run(() => {
      this.readJournal();
      if (this.names.has(name)) return undefined;
      this.names.add(name);
      const started: LocalExecutionRecord = {
        name,
        executionArn,
        input,
        startedAt: new Date().toISOString(),
      };
      mkdirSync(dirname(this.journal), { recursive: true });
      appendFileSync(this.journal, `${JSON.stringify(started)}\n`);
      return started;
    });
    if (!record) return { outcome: 'already-started', executionArn };
    this.run(record);
    return { outcome: 'started', executionArn };
  }

  async status(executionName: string): Promise<ExecutionStatus> {
    if (!this.names.has(executionName)) this.readJournal();
    if (!this.names.has(executionName)) return 'NOT_FOUND';
    return this.statusOf(executionName) ?? 'RUNNING';
  }
}
