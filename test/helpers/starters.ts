import type { RunInput } from '../../shared/domain/run';
import type { ExecutionStatus, ExecutionStatusReader, RunStarter, StartResult } from '../../shared/ports';

/**
 * A RunStarter that remembers what it started and can be told to fail for chosen names. Started runs
 * are RUNNING until `end` gives them another status.
 */
export class RecordingStarter implements RunStarter, ExecutionStatusReader {
  readonly started: Array<{ name: string; input: RunInput }> = [];
  readonly ended = new Map<string, ExecutionStatus>();

  end(name: string, status: ExecutionStatus = 'SUCCEEDED'): void {
    this.ended.set(name, status);
  }

  async status(name: string): Promise<ExecutionStatus> {
    if (!this.started.some((s) => s.name === name)) return 'NOT_FOUND';
    return this.ended.get(name) ?? 'RUNNING';
  }

  failWhen: (name: string) => Error | undefined = () => undefined;

  async start(request: { name: string; input: RunInput }): Promise<StartResult> {
    const failure = this.failWhen(request.name);
    if (failure) throw failure;
    const executionArn = `arn:aws:states:eu-west-1:123456789012:execution:medallion:${request.name}`;
    if (this.started.some((s) => s.name === request.name))
      return { outcome: 'already-started', executionArn };
    this.started.push(request);
    return { outcome: 'started', executionArn };
  }
}
