import { MedallionError } from './errors';

/**
 * Errors of the pipeline's stage functions (same family as shared/domain/errors.ts). Their names
 * surface as the `Error` of a failed state in the Step Functions console.
 */

/** The stage's job reported success but wrote no run manifest where the contract says it must. */
export class ManifestNotFoundError extends MedallionError {
  readonly retryable = false;
  constructor(readonly location: string) {
    super(`Run manifest not found: expected the job to write it at ${location}`);
  }
}

/** The run manifest exists but breaks the contract (shared/domain/manifest.ts). */
export class InvalidManifestError extends MedallionError {
  readonly retryable = false;
  constructor(
    readonly location: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`Invalid run manifest at ${location}: ${problems.join('; ')}`, options);
  }
}

/** A job run ended in a state other than SUCCEEDED but was returned as a result (STOPPED is). */
export class JobRunNotSucceededError extends MedallionError {
  readonly retryable = false;
  constructor(
    readonly jobName: string,
    readonly jobRunId: string,
    readonly state: string,
  ) {
    super(
      `Glue job ${jobName} run ${jobRunId} ended ${state}, not SUCCEEDED` +
        (state === 'STOPPED' ? ' (someone or something stopped it); its output is incomplete' : ''),
    );
  }
}

/** An adopted Glue run (after an ambiguous start) has not ended yet: the state machine polls again. */
export class JobRunNotFinishedError extends MedallionError {
  readonly retryable = true;
  constructor(
    readonly jobName: string,
    readonly jobRunId: string,
    readonly state: string,
  ) {
    super(`Glue job ${jobName} run ${jobRunId} is ${state}: waiting for it to end`);
  }
}

/** An adopted Glue run (after an ambiguous start) ended FAILED, TIMEOUT, ERROR or EXPIRED. */
export class JobRunFailedError extends MedallionError {
  readonly retryable = false;
  constructor(
    readonly jobName: string,
    readonly jobRunId: string,
    readonly state: string,
    errorMessage: string | undefined,
  ) {
    super(
      `Glue job ${jobName} run ${jobRunId} ended ${state}: ${errorMessage ?? '(Glue gave no error message)'}`,
    );
  }
}

export interface PartitionFailure {
  readonly table: string;
  readonly values: readonly string[];
  readonly code: string;
  readonly message: string;
}

/** Partitions could be neither created nor updated in the catalog. Names every one. */
export class PartitionRegistrationError extends MedallionError {
  readonly retryable = false;
  constructor(
    readonly database: string,
    readonly failures: readonly PartitionFailure[],
  ) {
    const shown = failures
      .slice(0, 20)
      .map((f) => `${f.table} (${f.values.join(', ')}): ${f.code}: ${f.message}`);
    const more = failures.length > shown.length ? `; and ${failures.length - shown.length} more` : '';
    super(`Could not register ${failures.length} partition(s) in ${database}: ${shown.join('; ')}${more}`);
  }
}

/** A catalog table cannot be read (missing, or no permission): no partition of it can be registered. */
export class CatalogTableError extends MedallionError {
  readonly retryable = false;
  constructor(
    readonly database: string,
    readonly table: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot read Glue table ${database}.${table} to register its partitions: ${reason}`, options);
  }
}

/** Another run holds the partition's lease; the state machine retries with backoff. */
export class PartitionBusyError extends MedallionError {
  readonly retryable = true;
  constructor(
    readonly partitionKey: string,
    readonly holder: string,
    readonly expiresAt: string,
  ) {
    super(`Partition ${partitionKey} is being processed by run ${holder} (lease until ${expiresAt})`);
  }
}

/** The execution input does not describe a partition of a known dataset. */
export class InvalidRunInputError extends MedallionError {
  readonly retryable = false;
}

/** Publishing an alert failed (after the SDK's retries). Never replaces the run's own error. */
export class AlertPublishError extends MedallionError {
  readonly retryable = true;
}

/** A partition lease kept changing while a run tried to release it; the state machine retries. */
export class LeaseContentionError extends MedallionError {
  readonly retryable = true;
}
