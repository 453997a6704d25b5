import { runCli } from './program';

/** Entry point of the `medallion` binary (bundled to dist/cli.cjs by bin/build-cli.cjs). */

// `medallion --help | head`: the reader left, nothing more to say.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
