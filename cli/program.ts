import { Command, CommanderError, Option } from 'commander';
import {
  calendarDate,
  choiceOf,
  collect,
  engineOption,
  integer,
  integerAtLeast,
  jsonOption,
  lakeOption,
  numberIn,
  portNumber,
} from './options';
import { ACCESS_LEVELS } from '../shared/domain/dataset-limits';

/**
 * The `medallion` CLI (commander): every command, its options and its help are declared here; the
 * work of a command is loaded only when it runs (`import()` of cli/<command>.ts), so `--help` and
 * usage errors load nothing of the pipeline.
 *
 * Exit codes: 0 ok, 1 failure (a run failed, a SQL error, an unknown execution, an invalid dataset
 * definition), 2 usage error (unknown command or option, a bad value, an unknown dataset, a lake
 * folder that does not exist).
 */

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const EXIT_CODES = 'Exit codes: 0 ok, 1 failure, 2 usage error.';
export const RUN_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT'] as const;
export const STAGE_NAMES = ['bronze', 'silver', 'gold'] as const;

export interface CliOutput {
  readonly writeOut: (text: string) => void;
  readonly writeErr: (text: string) => void;
}

const processOutput: CliOutput = {
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
};

/** `medallion runs show` for the pointer under a usage error. */
const fullName = (command: Command): string => {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
};

type Action = (...args: unknown[]) => Promise<number>;

export function buildProgram(output: CliOutput = processOutput): {
  program: Command;
  exitCode: () => number;
} {
  let code = EXIT_OK;
  /** Runs a command's work and keeps its exit code (commander ignores what actions return). */
  const act =
    (work: Action) =>
    async (...args: unknown[]): Promise<void> => {
      code = await work(...args);
    };

  const program = new Command('medallion')
    .description('Run the medallion lake pipeline on this machine (or replay partitions on AWS).')
    .usage('<command> [options]')
    .configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr })
    .exitOverride()
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .helpCommand('help [command]', 'show the help of a command')
    .addHelpText(
      'after',
      `\n${EXIT_CODES} --lake DIR or MEDALLION_LAKE picks another lake folder (default .lake).`,
    );

  /** A subcommand with the program's settings and a one-line pointer to its help under any error. */
  const command = (parent: Command, name: string, description: string): Command => {
    const cmd = parent.command(name).description(description);
    cmd.showHelpAfterError(`Run "${fullName(cmd)} --help" for usage.`);
    return cmd;
  };

  command(
    program,
    'demo',
    'Run the whole pipeline on sample orders, customers and sign-ins in a fresh local lake (what "npm start" runs).',
  )
    .addOption(
      new Option(
        '--lake <dir>',
        "the demo's own lake folder (default .demo-lake); only what the last demo wrote is deleted",
      ),
    )
    .addOption(
      new Option('--rows <n>', 'rows of a regular sample file (≥ 100: the spike day needs minRecords)')
        .argParser(integerAtLeast(100))
        .default(400),
    )
    .addOption(engineOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
The real on-landing handler, the real state machine (state-machines/medallion-pipeline.asl.json)
with the real stage functions, and the Glue jobs on DuckDB (or, with --engine spark, the real Glue
scripts on local Spark). Four landings of orders: a clean day; duplicate order versions, a
redelivered batch and late records for the first day; a quarantine spike; a corrupt file. Then
customers' change stream (an update, a delete, an insert, older late changes) merged into its
current state, and sign_ins' 7-day rolling gold corrected by a late file. Each step says what it
shows; each run's path, durations, record and quarantine counts, registered partitions and alerts
are printed. (The end-to-end test checks the same scenario against the lake and hand-computed figures.)

Exit codes: 0 the scenario ran (its corrupt-file run fails on purpose), 1 it could not run, 2 usage error.`,
    )
    .action(act(async (opts) => (await import('./demo')).demo(opts as never)));

  command(program, 'sample', 'Write a deterministic sample file into the landing folder of the local lake.')
    .usage('--dataset D --records N (--date YYYY-MM-DD [--where k=v] | --partition k=v/...) [options]')
    .addOption(
      new Option(
        '--dataset <name>',
        'dataset to generate for: rows follow its declared columns and rules (orders: the demo generator)',
      ).default('orders'),
    )
    .addOption(
      new Option('--records <n>', 'number of rows (streamed: 1,000,000 rows take seconds)')
        .argParser(integerAtLeast(1))
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--date <YYYY-MM-DD>',
        "the partition's day (any date layout) and the day of the rows",
      ).argParser(calendarDate),
    )
    .addOption(
      new Option(
        '--where <key=value>',
        'value of a partition key that is not the date (repeatable)',
      ).argParser(collect),
    )
    .addOption(new Option('--partition <k=v/...>', "the partition's hive path, for any layout"))
    .addOption(
      new Option('--bad-ratio <r>', 'share of rows that break one rule each, 0..1')
        .argParser(numberIn(0, 1))
        .default(0),
    )
    .addOption(
      new Option('--duplicates <r>', 'CDC datasets: share of changes delivered twice, 0..1')
        .argParser(numberIn(0, 1))
        .default(0),
    )
    .addOption(
      new Option('--out-of-order <r>', 'CDC datasets: share of changes written after the next one, 0..1')
        .argParser(numberIn(0, 1))
        .default(0),
    )
    .addOption(
      new Option('--seed <n>', 'random seed: the same seed gives the same file')
        .argParser(integer)
        .default(42),
    )
    .addOption(
      new Option('--first-id <n>', 'sequential ids (orders, keys without a pattern) start after N')
        .argParser(integer)
        .default(0),
    )
    .addOption(
      new Option('--format <format>', "jsonl or csv (default: the dataset's first landing format)").argParser(
        choiceOf(['jsonl', 'csv'] as const),
      ),
    )
    .addOption(new Option('--file <name>', 'file name (default sample-<seed>.<format>)'))
    .addOption(lakeOption('; created if missing'))
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Writing a file does not run the pipeline: run "medallion watch", or "medallion replay" for the date.
${EXIT_CODES}`,
    )
    .action(act(async (opts) => (await import('./sample')).sample(opts as never)));

  command(program, 'watch', "Run the pipeline as files land in the local lake's landing folders.")
    .addOption(
      new Option('--once', 'deliver the files present now, wait for their runs, exit').default(false),
    )
    .addOption(
      new Option('--interval <ms>', 'polling interval in milliseconds')
        .argParser(numberIn(0, Infinity, { exclusiveMin: true }))
        .default(500),
    )
    .addOption(
      new Option('--batch-window <s>', 'seconds to gather a batch (like MaximumBatchingWindowInSeconds)')
        .argParser(numberIn(0, 300))
        .default(2),
    )
    .addOption(
      new Option('--batch-size <n>', 'files per delivery (the SQS default)')
        .argParser(integerAtLeast(1))
        .default(10),
    )
    .addOption(
      new Option(
        '--execution-budget <n>',
        "executions in flight at most, as the stack's executionBudget: runs beyond it wait in the ledger and start as slots free (default: none)",
      ).argParser(integerAtLeast(1)),
    )
    .addOption(lakeOption('; created if missing'))
    .addOption(engineOption())
    .addHelpText(
      'after',
      `
Files are delivered to the real on-landing handler in batches, like the SQS event source: up to
--batch-size files, or --batch-window seconds after the first one. Files that match no dataset (or
break its key layout) are reported and left alone. Files already processed (the ledger knows them)
start nothing. datasets/ is followed too: a changed dataset.yml or gold SQL applies from the next
landing on; an invalid one is reported and keeps its last valid definition. Stop with Ctrl-C:
running executions finish first.

Exit codes: 0 every run succeeded (--once) or stopped cleanly, 1 a run failed (--once), 2 usage error.`,
    )
    .action(act(async (opts) => (await import('./watch')).watch(opts as never)));

  command(program, 'replay', 'Re-run partitions of a dataset from a stage on, locally or on AWS.')
    .usage('--dataset D (--from DATE --to DATE [--where k=v] | --partition k=v/... ...) [options]')
    .addOption(new Option('--dataset <name>', 'the dataset').makeOptionMandatory())
    .addOption(
      new Option(
        '--from <YYYY-MM-DD>',
        'first day of a range, for any date layout (year=/month=/day=, dt=YYYY-MM-DD, dt=YYYYMMDD...)',
      ).argParser(calendarDate),
    )
    .addOption(new Option('--to <YYYY-MM-DD>', 'last day of the range (included)').argParser(calendarDate))
    .addOption(
      new Option(
        '--where <key=value>',
        'with --from/--to: the value of a key that is not the date (region=us-east); repeatable',
      ).argParser(collect),
    )
    .addOption(
      new Option(
        '--partition <path>',
        'a partition by its hive path (year=2024/month=01/day=15, region=us/dt=2024-01-15); repeatable',
      ).argParser(collect),
    )
    .addOption(
      new Option('--stage <stage>', 'first stage to run: bronze, silver or gold')
        .argParser(choiceOf(STAGE_NAMES))
        .default('bronze'),
    )
    .addOption(new Option('--state-machine-arn <arn>', 'replay on AWS (credentials and region as usual)'))
    .addOption(
      new Option('--rate <n>', 'StartExecution calls per second (AWS)')
        .argParser(numberIn(0, 1000, { exclusiveMin: true }))
        .default(5),
    )
    .addOption(
      new Option(
        '--execution-budget <n>',
        "executions in flight at most: each replay waits for a slot (default on AWS: the stack's, as recorded in its ledger; locally: none)",
      ).argParser(integerAtLeast(1)),
    )
    .addOption(
      new Option(
        '--ledger-table <name>',
        "the stack's ledger table (AWS; default medallion-<stage>-ledger, from the state machine's name)",
      ),
    )
    .addOption(new Option('--dry-run', 'list the executions that would start, start nothing').default(false))
    .addOption(lakeOption(' (local replays)'))
    .addOption(engineOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Runs locally (the local lake, the real state machine) unless --state-machine-arn is given: then it
starts Step Functions executions on AWS, spaced to --rate per second, and does not wait for them
to end. Each replay takes an execution slot before it starts (the stack's executionBudget, shared
with landings): while every slot is held it waits, and says so.

Exit codes: 0 every replay started (AWS) or succeeded (local), 1 otherwise, 2 usage error.`,
    )
    .action(act(async (opts) => (await import('./replay')).replay(opts as never)));

  const runsCmd = command(
    program,
    'runs',
    'List the executions of the local pipeline, newest first (the local Step Functions console).',
  )
    // `runs show NAME --lake DIR`: options after "show" are show's own.
    .enablePositionalOptions()
    .addOption(new Option('--dataset <name>', 'only this dataset'))
    .addOption(
      new Option('--status <status>', `only this status: ${RUN_STATUSES.join(', ')} (any case)`).argParser(
        choiceOf(RUN_STATUSES),
      ),
    )
    .addOption(new Option('--limit <n>', 'at most N executions').argParser(integerAtLeast(1)).default(50))
    .addOption(lakeOption())
    .addOption(jsonOption())
    .addHelpText('after', `\nExit codes: 0 ok, 1 execution not found (runs show), 2 usage error.`)
    .action(act(async (opts) => (await import('./runs')).listRuns(opts as never)));
  command(runsCmd, 'show', 'One execution: states, durations, input, output, error and cause.')
    .argument('<name>', 'the execution name (see "medallion runs")')
    .addOption(lakeOption())
    .addOption(jsonOption())
    .addHelpText('after', `\nExit codes: 0 ok, 1 execution not found, 2 usage error.`)
    .action(act(async (name, opts) => (await import('./runs')).showRun(name as string, opts as never)));

  command(
    program,
    'ui',
    'Serve the run console (state machine graph, runs, charts, alerts) on 127.0.0.1 until Ctrl-C.',
  )
    .addOption(new Option('--port <n>', 'port on 127.0.0.1 (0: a free one)').argParser(portNumber).default(0))
    .addOption(lakeOption())
    .addHelpText(
      'after',
      `
The console shows the state machine as the local runtime runs it, with the selected execution's
path and each state's status; the executions, filtered by dataset and status; per dataset, the
stage durations, records in / out / quarantined and the quarantine ratio against its baseline over
time; and the alerts. Each load of the page reads the lake again. Only 127.0.0.1 is listened on.

Exit codes: 0 stopped by Ctrl-C, 1 failure, 2 usage error (a --lake that is not a lake, a taken port).`,
    )
    .action(act(async (opts) => (await import('./console')).ui(opts as never)));

  command(program, 'report', 'Write the run console as one HTML file that opens offline.')
    .addOption(new Option('--out <file>', 'the HTML file to write (folders created)').makeOptionMandatory())
    .addOption(lakeOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
The same page as "medallion ui", with the lake's data and the page's code (charts, graph layout)
inside the file: it needs no server and no network.

Exit codes: 0 written, 1 failure, 2 usage error.`,
    )
    .action(act(async (opts) => (await import('./console')).report(opts as never)));

  command(program, 'catalog', "The data dictionary of the local lake's datasets, as Markdown or HTML.")
    .addOption(lakeOption())
    .addOption(
      new Option('--format <format>', 'md or html')
        .argParser(choiceOf(['md', 'html'] as const))
        .default('md'),
    )
    .addOption(new Option('--out <file>', 'write to this file instead of stdout'))
    .addOption(
      new Option(
        '--publish',
        'write the HTML dictionary into the lake (_system/data-dictionary.html), where the run console (medallion ui / report) links it',
      ),
    )
    .addHelpText(
      'after',
      `
Per dataset: description, owner, landing prefix and formats, partition keys, freshness (time since
its last successful run); per zone (bronze, silver, gold, quarantine) the catalog table, its columns
with types, "not null" and the rules on each silver column, its row count and its 5 latest
partitions with their rows; and the gold SQL.

Exit codes: 0 printed, 1 failure, 2 usage error (a lake that does not exist included).`,
    )
    .action(act(async (opts) => (await import('./catalog')).catalog(opts as never)));

  command(program, 'query', 'Run SQL (DuckDB) over the local lake and its system tables.')
    .argument('<sql...>', 'the SQL (quote it)')
    .addOption(lakeOption())
    .addOption(jsonOption())
    .addOption(
      new Option(
        '--as <principal>',
        "query as a principal: reader (public and internal columns only) or full (every column), the registry's column policy",
      ).argParser(choiceOf(ACCESS_LEVELS)),
    )
    .addHelpText(
      'after',
      `
Tables:
  <catalog tables>     one per dataset and zone, e.g. orders_bronze, orders_silver,
                       orders_daily_revenue (gold), orders_quarantine; partition keys are columns
  bronze, silver, gold, quarantine
                       aliases of those tables while there is a single dataset
  catalog              registered partitions (database, table, values, location, ...)
  metrics              stage metrics (dataset, stage, timestamp, durationSeconds, records..., quarantineRatio)
  alerts               alerts raised (subject, body, attributes, publishedAt)
  runs                 executions (name, dataset, partition, trigger, status, durations, error)
  ledger               landed object versions and the run that processed them
Every table exists on any lake (empty until something is written to it); "SHOW TABLES" lists them.

--as reader shows what an analyst granted the ReaderPrincipals access sees in Athena: the dataset
tables without their confidential and pii columns (dataset.yml classification); selecting one is an
error naming the column and the policy. --as full shows every column. A preview of the policy, not a
security boundary: the lake's files are on your disk.

Examples:
  medallion query "SELECT country, sum(revenue) FROM orders_daily_revenue GROUP BY ALL ORDER BY 2 DESC"
  medallion query "SELECT _quarantine_reasons, count(*) FROM page_views_quarantine GROUP BY ALL"
  medallion query --as reader "SELECT * FROM orders_silver LIMIT 5"

Exit codes: 0 ok, 1 SQL error, 2 usage error.`,
    )
    .action(
      act(async (sql, opts) => (await import('./query')).query((sql as string[]).join(' '), opts as never)),
    );

  command(
    program,
    'access-report',
    'Who can read and write what: per principal of the packaged stack, its S3 prefixes and Lake Formation tables and columns.',
  )
    .addOption(
      new Option('--template <file>', 'the packaged template').default(
        '.serverless/cloudformation-template-update-stack.json',
      ),
    )
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Reads the template "npm run package" (osls package) writes and prints, for each IAM role of the stack
(one per function, one per Glue job, the state machine's) and each principal of the
lakeFormationReaders / lakeFormationFullAccess parameters: the S3 objects it can read (s3:GetObject)
and write (s3:PutObject, s3:DeleteObject), and the tables and columns Lake Formation grants it (LF-Tag
expressions resolved against the template's tag associations). docs/governance.md, "Access review".

Exit codes: 0 printed, 1 failure, 2 usage error (no template at that path).`,
    )
    .action(act(async (opts) => (await import('./access-report')).accessReportCommand(opts as never)));

  command(
    program,
    'compile',
    'Compile every dataset (definition + generated SQL) into the plan the Glue jobs read (--dataset_plan).',
  )
    .addOption(
      new Option('--out <dir>', 'where to write <dataset>.json (created if missing)').makeOptionMandatory(),
    )
    .addOption(new Option('--dataset <name>', 'compile only this dataset'))
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `\nExit codes: 0 written, 1 a dataset is invalid (every problem is listed), 2 usage error.`,
    )
    .action(act(async (opts) => (await import('./compile')).compile(opts as never)));

  return { program, exitCode: () => code };
}

/** The error classes a command throws for a usage mistake found after parsing (exit 2). */
const USAGE_ERRORS = new Set([
  'UsageError',
  'TemplateShapeError',
  'ConsolePortError',
  'LakeNotFoundError',
  'ReplayArgumentError',
  'DemoLakeNotEmptyError',
]);

/** Runs the CLI on `argv` (without `node` and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[], output: CliOutput = processOutput): Promise<number> {
  const { program, exitCode } = buildProgram(output);
  let active: Command = program;
  program.hook('preAction', (_this, actionCommand) => {
    active = actionCommand;
  });
  if (argv.length === 0) {
    output.writeErr(`${program.helpInformation()}`);
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode();
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help asked for (0); anything else commander refused is a usage error, already printed.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? EXIT_OK
        : EXIT_USAGE;
    }
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    if (USAGE_ERRORS.has(name)) {
      output.writeErr(`error: ${message}\nRun "${fullName(active)} --help" for usage.\n`);
      return EXIT_USAGE;
    }
    output.writeErr(`${name}: ${message}\n`);
    return EXIT_FAILURE;
  }
}
