import type { LedgerEntry } from '../ports';

/**
 * A pending claim older than this is presumed abandoned (its Lambda died between claiming and
 * starting) and may be re-claimed. Longer than the on-landing timeout plus SQS redelivery.
 */
export const DEFAULT_STALE_CLAIM_MS = 15 * 60 * 1000;

/** How long ledger entries live (DynamoDB TTL): past Step Functions' 90-day name uniqueness window. */
export const DEFAULT_LEDGER_TTL_DAYS = 120;

/** The claim rule, shared by every ledger adapter (DynamoDB expresses it as a condition expression). */
export function decideClaim(
  existing: LedgerEntry | undefined,
  executionName: string,
  now: Date,
  staleAfterMs: number = DEFAULT_STALE_CLAIM_MS,
): 'claimed' | 'duplicate' | 'in-flight' {
  if (!existing) return 'claimed';
  // A deferred object belongs to a follow-up run that its partition's lease holder will start.
  if (existing.state === 'started' || existing.state === 'deferred') return 'duplicate';
  if (existing.executionName === executionName) return 'claimed';
  return now.getTime() - Date.parse(existing.claimedAt) > staleAfterMs ? 'claimed' : 'in-flight';
}
