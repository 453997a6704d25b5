import { compile } from './compile';
import { demo } from './demo';
import { query } from './query';
import { replay } from './replay';
import { runs } from './runs';
import { sample } from './sample';
import { watch } from './watch';

const USAGE = `medallion — run the medallion lake pipeline on this machine

Usage: medallion <command> [options]

Commands:
  demo        Run the whole pipeline on sample data in a fresh local lake (what "npm start" runs)
  sample      Write a deterministic sample file into the landing folder
  watch       Run the pipeline as files land in the local lake (batched like SQS)
  replay      Re-run partitions from a stage on, locally or on AWS (--state-machine-arn)
  runs        List executions, or "runs show NAME" for one (the local Step Functions console)
  query       Run SQL over the local lake: bronze/silver/gold/quarantine, catalog, metrics, alerts
  compile     Compile every dataset (definition + generated SQL) into the plan the Glue jobs read

Run "medallion <command> --help" for a command's options.
Exit codes: 0 success, 1 failure, 2 usage error.`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  demo,
  sample,
  watch,
  replay,
  runs,
  query,
  compile,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`Unknown command "${command}".\n\n${USAGE}`);
    return 2;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    process.exitCode = 1;
  },
);
