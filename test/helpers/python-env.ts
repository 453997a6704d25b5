import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The project's Python test environment (.venv, made by scripts/pyenv.sh, which `npm test` runs
 * first): pyspark 3.5.6, moto server, cfn-lint, checkov, all pinned in python/requirements.lock.
 */
export const VENV_PYTHON = join(process.cwd(), '.venv', 'bin', 'python');

/**
 * The venv's python, or an error that says how to make it. Tests that need a real engine call this:
 * a missing engine fails the test (under CI=true as everywhere else), it is never a skip.
 */
export function venvPython(): string {
  if (!existsSync(VENV_PYTHON)) {
    throw new Error(
      `The Python test environment is missing (${VENV_PYTHON}). Run 'bash scripts/pyenv.sh' ` +
        `(npm test does it first) to install pyspark, moto, cfn-lint and checkov from python/requirements.lock.`,
    );
  }
  return VENV_PYTHON;
}
