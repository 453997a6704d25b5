import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger per function (service name = the function). */
export const createLogger = (serviceName: string): Logger =>
  new Logger({ serviceName, logLevel: (process.env['LOG_LEVEL'] as 'INFO' | undefined) ?? 'INFO' });
