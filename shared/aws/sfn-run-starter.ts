import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
  type SFNClientConfig,
} from '@aws-sdk/client-sfn';
import { StartRunError } from '../domain/errors';
import type { ExecutionStatus, ExecutionStatusReader, RunStarter, StartResult } from '../ports';

/**
 * StartExecution throttling (ThrottlingException: a token bucket per account and region) is retried
 * by the SDK's adaptive strategy, which also slows the client down; not by a hand-written loop.
 */
export const SFN_CLIENT_CONFIG: SFNClientConfig = { maxAttempts: 8, retryMode: 'adaptive' };

/** Errors no retry can heal: the request itself is wrong. */
const PERMANENT = new Set([
  'InvalidArn',
  'InvalidName',
  'InvalidExecutionInput',
  'StateMachineDoesNotExist',
  'StateMachineDeleting',
  'ValidationException',
  'KmsAccessDeniedException',
  'AccessDeniedException',
]);

export const executionArnOf = (stateMachineArn: string, name: string): string =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

const STATUSES = new Set<string>([
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
]);

/** Starts executions of one state machine, and reads their statuses (DescribeExecution). */
export class SfnRunStarter implements RunStarter, ExecutionStatusReader {
  constructor(
    private readonly stateMachineArn: string,
    private readonly client: SFNClient = new SFNClient(SFN_CLIENT_CONFIG),
  ) {}

  async start({ name, input }: Parameters<RunStarter['start']>[0]): Promise<StartResult> {
    try {
      const out = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return {
        outcome: 'started',
        executionArn: out.executionArn ?? executionArnOf(this.stateMachineArn, name),
      };
    } catch (error) {
      // Same name, different input (or a finished execution): the run of this run key exists.
      if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists') {
        return { outcome: 'already-started', executionArn: executionArnOf(this.stateMachineArn, name) };
      }
      const errorName = (error as Error).name;
      throw new StartRunError(
        `StartExecution ${name} failed: ${errorName}: ${(error as Error).message}`,
        !PERMANENT.has(errorName),
        {
          cause: error,
        },
      );
    }
  }

  async status(executionName: string): Promise<ExecutionStatus> {
    try {
      const out = await this.client.send(
        new DescribeExecutionCommand({ executionArn: executionArnOf(this.stateMachineArn, executionName) }),
      );
      const status = out.status ?? '';
      if (!STATUSES.has(status))
        throw new Error(`DescribeExecution ${executionName}: unknown status "${status}"`);
      return status as ExecutionStatus;
    } catch (error) {
      if ((error as Error).name === 'ExecutionDoesNotExist') return 'NOT_FOUND';
      throw error;
    }
  }
}
