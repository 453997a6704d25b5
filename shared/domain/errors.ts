/**
 * One error family for the whole project. Every error carries a stable `name` (what Step Functions
 * Retry/Catch match on and what logs are searched by) and whether retrying could ever help.
 */
export abstract class MedallionError extends Error {
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A dataset definition (datasets/<name>/dataset.yml) is invalid. Lists every problem at once. */
export class DatasetConfigError extends MedallionError {
  readonly retryable = false;
  constructor(readonly problems: readonly string[]) {
    super(`Invalid dataset configuration (${problems.length} problem(s)):\n  - ${problems.join('\n  - ')}`);
  }
}

/** A required environment variable is missing or malformed. */
export class EnvironmentError extends MedallionError {
  readonly retryable = false;
}

export type InvalidKeyReason =
  | 'bad-encoding'
  | 'traversal'
  | 'empty-segment'
  | 'missing-partition'
  | 'unexpected-partition-key'
  | 'invalid-partition-value'
  | 'nested-below-partition'
  | 'unsupported-format'
  | 'not-a-file'
  | 'impossible-date';

/** An object key lies under a dataset's landing prefix but does not follow its layout. */
export class InvalidObjectKeyError extends MedallionError {
  readonly retryable = false;
  constructor(
    readonly key: string,
    readonly reason: InvalidKeyReason,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Invalid object key "${key}" (${reason}): ${detail}`, options);
  }
}

/** A partition's date values name no calendar date (`day=30` in February, `2023-02-29`). */
export class InvalidPartitionDateError extends InvalidObjectKeyError {
  constructor(key: string, detail: string) {
    super(key, 'impossible-date', detail);
  }
}

/** An object key lies outside every dataset's landing prefix. Skipped and counted, never failed. */
export class NoDatasetMatchError extends MedallionError {
  readonly retryable = false;
  constructor(readonly key: string) {
    super(`Object key "${key}" matches no dataset landing prefix`);
  }
}

/** A delivered event (SQS body, EventBridge detail, S3 notification) cannot be understood. */
export class MalformedEventError extends MedallionError {
  readonly retryable = false;
}

/** Objects of a group are claimed by another run that has not confirmed its start yet. */
export class ObjectsInFlightError extends MedallionError {
  readonly retryable = true;
}

/** An execution budget that is not a whole number of slots within range (names the field). */
export class InvalidExecutionBudgetError extends MedallionError {
  readonly retryable = false;
}

/** Every execution slot is held (shared/domain/run-slots.ts): the run waits for one to free up. */
export class ExecutionBudgetFullError extends MedallionError {
  readonly retryable = true;
}

/** Ledger writes kept being cancelled by concurrent writers (transaction conflicts). */
export class LedgerContentionError extends MedallionError {
  readonly retryable = true;
}

/** Starting the Step Functions execution failed (after the SDK's own retries). */
export class StartRunError extends MedallionError {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const describeError = (error: unknown): { name: string; message: string } =>
  error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'UnknownError', message: String(error) };
