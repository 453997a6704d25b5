/**
 * What a bronze run read, and which deferred objects that covers: the one rule behind "a follow-up run
 * starts only for objects the finished run did not read" (issue #11, item 7).
 *
 * The bronze job lists its partition's landing folder and writes every file it accounted for (read,
 * or skipped as empty) in its manifest's `sourceFiles`: the object key in the lake, its size and its
 * eTag, which is what a listing shows of an object version (S3 ListObjectsV2 and the local folder
 * alike; the notification's `sequencer` is never visible to a reader, and a `versionId` would need
 * ListObjectVersions). A landed object version was read by that run when its key, size and eTag are
 * listed: the same bytes. An object whose eTag is unknown (its notification carried none) is never
 * taken as read. A mismatch only ever costs a run (the object gets its follow-up), never an object.
 */

/** One landed file a bronze run accounted for (manifest `sourceFiles`). */
export interface SourceFile {
  /** The object key in the lake (S3 key; locally the path below the lake folder). */
  readonly key: string;
  readonly size: number;
  /** As S3 reports it, without the quotes a listing puts around it. */
  readonly eTag: string;
}

/** What the ledger keeps of a deferred object version, to compare it with a run's source files. */
export interface DeferredVersion {
  readonly objectId: string;
  readonly key: string;
  readonly size: number;
  readonly eTag?: string;
  readonly eventTime: string;
}

/** Listings quote eTags (`"9b2c..."`), notifications do not: compared without quotes. */
export const bareETag = (eTag: string): string => eTag.replace(/^"(.*)"$/, '$1');

const identity = (key: string, size: number, eTag: string) => `${size}\u0000${bareETag(eTag)}\u0000${key}`;

/** Splits deferred object versions into those the run's source files cover (`read`) and the rest. */
export function splitByRead(
  versions: readonly DeferredVersion[],
  sources: readonly SourceFile[],
): { read: DeferredVersion[]; unread: DeferredVersion[] } {
  const listed = new Set(sources.map((s) => identity(s.key, s.size, s.eTag)));
  const read: DeferredVersion[] = [];
  const unread: DeferredVersion[] = [];
  for (const v of versions) {
    if (v.eTag !== undefined && listed.has(identity(v.key, v.size, v.eTag))) read.push(v);
    else unread.push(v);
  }
  return { read, unread };
}
