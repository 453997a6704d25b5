import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

type Parsed<T extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
>;

/**
 * Parses a command's options strictly (unknown options are usage errors) and handles -h/--help.
 * Returns an exit code when the command should stop there (help printed: 0, usage error: 2).
 */
export function parseCommand<T extends ParseArgsOptionsConfig>(
  args: string[],
  help: string,
  options: T,
): Parsed<T> | number {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(help);
    return 0;
  }
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    return usageError((error as Error).message, help);
  }
}

/** Prints a usage error followed by the command's help; returns the usage exit code, 2. */
export function usageError(message: string, help: string): 2 {
  console.error(`${message}\n\n${help}`);
  return 2;
}

/** `--engine duckdb|spark`: what runs the Glue tasks locally (see LocalPipelineOptions.engine). */
export const ENGINE_OPTION = { engine: { type: 'string', default: 'duckdb' } } as const;
export const ENGINE_HELP =
  '  --engine E         Glue engine: duckdb (default) or spark (the real Glue scripts on local Spark)';

/** The engine named by --engine, or undefined when it names none (a usage error). */
export function parseEngine(value: string | undefined): 'duckdb' | 'spark' | undefined {
  return value === 'duckdb' || value === 'spark' ? value : undefined;
}
