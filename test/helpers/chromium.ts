import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Real headless Chromium for the browser tests: Debian's `chromium` package (`.ci/run` installs it),
 * driven by playwright-core. `CHROMIUM_PATH` names another binary. A missing browser fails the
 * test (under CI=true as everywhere else): it is never a skip.
 */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function chromiumPath(): string {
  const candidates = process.env['CHROMIUM_PATH'] ? [process.env['CHROMIUM_PATH']] : CHROMIUM_CANDIDATES;
  const found = candidates.find((path) => existsSync(path));
  if (!found)
    throw new Error(
      `Chromium is missing (looked for ${candidates.join(', ')}). Install it with ` +
        `'apt-get install -y chromium' (as .ci/run does), or set CHROMIUM_PATH to a Chromium binary.`,
    );
  return found;
}

/** Launches headless Chromium; no network but loopback and files is ever needed by a test. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in a container has no user namespace sandbox; the pages opened are the tests' own.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
