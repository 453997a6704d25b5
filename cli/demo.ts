import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createHandler } from '../functions/on-landing/handler';
import { loadRegistry } from '../shared/config/registry';
import { processLanding, type LandingDeps } from '../shared/core/landing';
import { FileObjectLedger } from '../shared/local/file-ledger';
import { LocalLake, sqsEventFor } from '../shared/local/lake';
import { LocalRunStarter } from '../shared/local/run-starter';
import { sampleOrders, toCsv, toJsonLines, writeFile } from '../shared/local/sample';
import type { Log } from '../shared/ports';

const HELP = `medallion demo — land sample orders in a fresh local lake and run them through the real
on-landing handler (the same code as the Lambda), then deliver the same batch again.

Options:
  --lake DIR   lake folder (default: .lake; it is emptied first)
  --json       print the results as JSON
  -h, --help   show this help

Exit code 0 only if every expected outcome happened.`;

const quietLog: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export async function demo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      lake: { type: 'string', default: '.lake' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const lake = new LocalLake(values.lake);
  rmSync(lake.root, { recursive: true, force: true });

  const landed = [
    [
      'landing/shop/orders/year=2024/month=01/day=15/web orders 001.jsonl',
      toJsonLines(sampleOrders({ date: '2024-01-15', records: 400, seed: 1 })),
    ],
    [
      'landing/shop/orders/year=2024/month=01/day=15/web orders 002.jsonl',
      toJsonLines(sampleOrders({ date: '2024-01-15', records: 300, seed: 2, firstId: 400 })),
    ],
    [
      'landing/shop/orders/year=2024/month=01/day=15/marketplace+feed.csv',
      toCsv(sampleOrders({ date: '2024-01-15', records: 200, seed: 3, firstId: 700 })),
    ],
    [
      'landing/shop/orders/year=2024/month=01/day=16/web orders 001.jsonl',
      toJsonLines(sampleOrders({ date: '2024-01-16', records: 500, seed: 4, firstId: 900 })),
    ],
    ['landing/crm/contacts/export.csv', 'id,name\n1,Ada\n'],
  ] as const;
  for (const [key, content] of landed) writeFile(lake.path(key), content);

  const starter = new LocalRunStarter(lake.system('executions.jsonl'));
  const deps: LandingDeps = {
    registry: loadRegistry(),
    ledger: new FileObjectLedger(lake.system('ledger.json')),
    starter,
    log: quietLog,
  };
  const handler = createHandler(() => deps);
  const event = sqsEventFor(
    lake,
    landed.map(([key]) => key),
  );

  const first = await processLanding(event, deps);
  const response = await handler(event, {} as never);
  const again = await processLanding(event, deps);

  const checks: Array<[string, boolean]> = [
    ['first delivery starts one run per partition (2)', first.runs.length === 2],
    [
      '4 orders files started, 1 file outside every dataset skipped',
      first.counts.started === 4 && first.counts.skipped === 1,
    ],
    [
      'the handler acknowledges every SQS message',
      'batchItemFailures' in response && response.batchItemFailures.length === 0,
    ],
    [
      'redelivery starts nothing: every object is a duplicate',
      again.runs.length === 0 && again.counts.duplicates === 4,
    ],
  ];
  if (values.json) {
    console.log(JSON.stringify({ first, again, checks: Object.fromEntries(checks) }, null, 2));
  } else {
    console.log(`Local lake: ${lake.root}\n`);
    for (const run of first.runs)
      console.log(`started ${run.executionName}  (${run.dataset} ${run.partition}, ${run.objects} objects)`);
    console.log(`\nfirst delivery:  ${JSON.stringify(first.counts)}`);
    console.log(`redelivery:      ${JSON.stringify(again.counts)}\n`);
    for (const [name, ok] of checks) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
  }
  return checks.every(([, ok]) => ok) ? 0 : 1;
}
