import { EnvironmentError } from '../domain/errors';

/** Reads a required environment variable, naming it when it is missing. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new EnvironmentError(`Environment variable ${name} is required but not set`);
  }
  return value;
}

/** Reads an optional positive integer environment variable. */
export function intEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new EnvironmentError(`Environment variable ${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}
