import { measureCase } from './on-landing';

/**
 * One P of the on-landing benchmark in this (fresh) process; prints its result as one JSON line.
 *   node --import tsx bench/on-landing-case.ts <P> [naive-sdk]
 */

async function main(): Promise<void> {
  const p = Number(process.argv[2]);
  if (!Number.isInteger(p) || p < 1)
    throw new Error(`P must be a positive integer, got "${process.argv[2] ?? ''}"`);
  const result = await measureCase(p, process.argv[3] === 'naive-sdk');
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
