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
