import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { MedallionError } from '../shared/domain/errors';

/**
 * The demo's own lake folder (`.demo-lake/` unless --lake says otherwise). The demo starts from an
 * empty lake, yet never deletes a file it did not write: after each run it lists the files of the
 * lake in DEMO_FILES, and before the next one it deletes exactly those, after checking that nothing
 * else is there (a file a user dropped in stops the demo, named, and stays).
 */

export const DEFAULT_DEMO_LAKE = '.demo-lake';
export const DEMO_FILES = '.medallion-demo-files.json';

/** The demo lake holds files the demo did not write: nothing was deleted. */
export class DemoLakeNotEmptyError extends MedallionError {
  readonly retryable = false;
  constructor(
    readonly root: string,
    readonly foreign: readonly string[],
  ) {
    const shown =
      foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, and ${foreign.length - 5} more` : '');
    super(
      `${root} holds ${foreign.length} file(s) the demo did not write (${shown}): nothing deleted; move them, or give the demo another --lake`,
    );
  }
}

function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter((f) => f !== DEMO_FILES)
    .sort();
}

/** Empties the demo lake of what the last demo wrote; throws DemoLakeNotEmptyError before deleting anything else. */
export function clearDemoLake(root: string): void {
  const listPath = join(root, DEMO_FILES);
  const written = new Set<string>(
    existsSync(listPath) ? (JSON.parse(readFileSync(listPath, 'utf8')) as { files: string[] }).files : [],
  );
  const foreign = filesUnder(root).filter((f) => !written.has(f));
  if (foreign.length > 0) throw new DemoLakeNotEmptyError(root, foreign);
  for (const file of written) rmSync(join(root, ...file.split('/')), { force: true });
  rmSync(listPath, { force: true });
  removeEmptyFolders(root);
}

/** Records every file of the demo lake as the demo's (called when the demo ends). */
export function recordDemoLake(root: string): void {
  writeFileSync(join(root, DEMO_FILES), `${JSON.stringify({ files: filesUnder(root) }, null, 2)}\n`);
}

function removeEmptyFolders(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) removeEmptyFolders(join(dir, e.name));
  if (readdirSync(dir).length === 0) rmdirSync(dir);
}
