import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The Glue package's folder: what --extra-py-files puts on the job's Python path. */
export const GLUE_DIR = join(process.cwd(), 'glue');

/**
 * Runs a Python snippet against the Glue package (python3, standard library only) and parses the
 * JSON it prints. `input` is written to its stdin as JSON.
 */
export function runPython<T>(code: string, input?: unknown): T {
  const stdout = execFileSync('python3', ['-c', code], {
    cwd: process.cwd(),
    env: { ...process.env, PYTHONPATH: GLUE_DIR, PYTHONDONTWRITEBYTECODE: '1' },
    input: input === undefined ? '' : JSON.stringify(input),
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as T;
}
