import type { RunInput } from './domain/run';

/**
 * The ports: every side effect of the core goes through one of these, with an AWS adapter
 * (shared/aws) and a local adapter (shared/local) each.
 */

export interface StartResult {
  /** `already-started`: an execution with this name exists (a retry, or a duplicate delivery). */
  readonly outcome: 'started' | 'already-started';
  readonly executionArn: string;
}

/** Starts pipeline runs (Step Functions executions). */
export interface RunStarter {
  start(request: { readonly name: string; readonly input: RunInput }): Promise<StartResult>;
}

/** What the ledger knows of one object version. */
export interface LedgerEntry {
  readonly objectId: string;
  readonly executionName: string;
  /** `pending`: claimed by a run that has not confirmed its start; `started`: its run started. */
  readonly state: 'pending' | 'started';
  readonly claimedAt: string;
  readonly startedAt?: string;
}

export type ClaimOutcome =
  /** Ours now: include it in the run. */
  | { readonly objectId: string; readonly outcome: 'claimed' }
  /** Already processed by a started run: never trigger another. */
  | { readonly objectId: string; readonly outcome: 'duplicate'; readonly executionName: string }
  /** Claimed by a run that has not started yet: retry later. */
  | { readonly objectId: string; readonly outcome: 'in-flight'; readonly executionName: string };

/**
 * The object ledger: per-object idempotency. Claims are `pending` until the run is confirmed
 * started; a pending claim older than the ledger's stale window (its owner crashed) can be re-claimed.
 */
export interface ObjectLedger {
  claim(objectIds: readonly string[], executionName: string, now: Date): Promise<ClaimOutcome[]>;
  confirm(objectIds: readonly string[], executionName: string, now: Date): Promise<void>;
  release(objectIds: readonly string[], executionName: string): Promise<void>;
  /** Which execution processed (or is processing) this object version? */
  lookup(objectId: string): Promise<LedgerEntry | undefined>;
}

/** Structured logging (Powertools Logger satisfies it). */
export interface Log {
  debug(message: string, ...attributes: Array<Record<string, unknown>>): void;
  info(message: string, ...attributes: Array<Record<string, unknown>>): void;
  warn(message: string, ...attributes: Array<Record<string, unknown>>): void;
  error(message: string, ...attributes: Array<Record<string, unknown>>): void;
}
