import { parseArgs } from 'node:util';
import { compile } from './compile';
import { demo } from './demo';

const USAGE = `medallion — run the medallion lake pipeline on this machine

Usage: medallion <command> [options]

Commands:
  demo        Land sample orders in the local lake and run them through the real landing handler
  compile     Compile every dataset (definition + generated SQL) into the plan the Glue jobs read

Run "medallion <command> --help" for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo':
      return demo(rest);
    case 'compile':
      return compile(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
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

export { parseArgs };
