/**
 * Every error name the state machine's Retry and Catch match on, in one place: the ASL may use only
 * these (a test checks it), and our own errors' `name`s are asserted against them.
 */

/** Step Functions' own error names. */
export const STATES_ERRORS = {
  all: 'States.ALL',
  taskFailed: 'States.TaskFailed',
  timeout: 'States.Timeout',
} as const;

/**
 * Glue StartJobRun errors that reject the call for sure and heal with time: the job is at its
 * MaxConcurrentRuns (default 1) or the API is throttling. Step Functions prefixes them with `Glue.`.
 */
export const GLUE_TRANSIENT_ERRORS = [
  'Glue.ConcurrentRunsExceededException',
  'Glue.ThrottlingException',
] as const;

/**
 * Glue StartJobRun errors after which a run may or may not have started (StartJobRun has no
 * idempotency token): retrying could run the stage twice, so they are never retried in place.
 */
export const GLUE_AMBIGUOUS_ERRORS = [
  'Glue.InternalServiceException',
  'Glue.OperationTimeoutException',
] as const;

/** Lambda service errors (not the function's own): retry them, as the Step Functions guide advises. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/** Names of our own errors that the ASL matches or raises (each equals its class name). */
export const PIPELINE_ERRORS = {
  /** Another run holds the partition's lease: wait and try again. */
  partitionBusy: 'PartitionBusyError',
  /** The lease changed under a releasing run several times in a row: try again. */
  leaseContention: 'LeaseContentionError',
  /** Raised by the state machine itself (a Pass state) when a quarantine spike halts the run. */
  quarantineSpike: 'QuarantineSpikeError',
  /**
   * Raised by the state machine itself (a Pass state) when a Task's output lacks a field the next
   * states read: a named, catchable failure instead of States.Runtime.
   */
  malformedTaskOutput: 'MalformedTaskOutputError',
  /** An adopted Glue run is still running: *Wait for <stage> run* polls by retrying it. */
  jobRunNotFinished: 'JobRunNotFinishedError',
  /** An adopted Glue run ended FAILED, TIMEOUT, ERROR or EXPIRED. */
  jobRunFailed: 'JobRunFailedError',
} as const;

export const KNOWN_ERROR_NAMES: ReadonlySet<string> = new Set<string>([
  ...Object.values(STATES_ERRORS),
  ...GLUE_TRANSIENT_ERRORS,
  ...GLUE_AMBIGUOUS_ERRORS,
  ...LAMBDA_SERVICE_ERRORS,
  ...Object.values(PIPELINE_ERRORS),
]);
