import type { RunInput } from '../../shared/domain/run';
import type { RunStarter, StartResult } from '../../shared/ports';

/** A RunStarter that remembers what it started and can be told to fail for chosen names. */
export class RecordingStarter implements RunStarter {
  readonly started: Array<{ name: string; input: RunInput }> = [];
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
