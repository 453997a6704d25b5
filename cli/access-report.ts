import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accessReport, accessReportText } from '../stack/access-report';
import { UsageError } from './options';

export interface AccessReportOptions {
  readonly template?: string;
  readonly json: boolean;
}

/** The template `npm run package` writes (osls package). */
export const DEFAULT_TEMPLATE = join('.serverless', 'cloudformation-template-update-stack.json');

/** `medallion access-report`: who can read and write what, from the packaged template. */
export async function accessReportCommand(options: AccessReportOptions): Promise<number> {
  const file = options.template ?? DEFAULT_TEMPLATE;
  if (!existsSync(file))
    throw new UsageError(`${file}: no packaged template (run "npm run package", or give --template <file>)`);
  let template: unknown;
  try {
    template = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: not a JSON template (${(error as Error).message})`);
  }
  const report = accessReport(template as never);
  console.log(options.json ? JSON.stringify(report, null, 2) : accessReportText(report));
  return 0;
}
