import { execFileSync } from 'node:child_process';
import { goldTargetsOf, goldWindowArgument, type GoldWindowArgument } from '../../shared/domain/gold-window';
import type { Dataset } from '../../shared/domain/datasets';
import { venvPython } from '../helpers/python-env';

/**
 * The gold window rule (shared/domain/gold-window.ts): which gold partitions a run recomputes and from
 * which silver partitions, for every date layout; the Python twin reads the argument the same way.
 */

type Keys = Dataset['partitionKeys'];
const dataset = (partitionKeys: Keys, partitions?: number): Pick<Dataset, 'gold' | 'partitionKeys'> =>
  ({
    partitionKeys,
    gold: {
      sql: 'gold.sql',
      columns: [{ name: 'n', type: 'bigint' }],
      ...(partitions ? { window: { partitions } } : {}),
    },
  }) as Pick<Dataset, 'gold' | 'partitionKeys'>;

const YMD: Keys = [
  { name: 'year', pattern: '^[0-9]{4}$' },
  { name: 'month', pattern: '^[0-9]{2}$' },
  { name: 'day', pattern: '^[0-9]{2}$' },
] as Keys;
const REGION_DT: Keys = [{ name: 'region' }, { name: 'dt', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }] as Keys;

describe('gold window', () => {
  test('without a window the run writes its own gold partition from its own silver', () => {
    const arg = goldWindowArgument(dataset(YMD), {
      path: 'year=2024/month=01/day=15',
      values: ['2024', '01', '15'],
    });
    expect(goldTargetsOf(arg)).toEqual([
      {
        path: 'year=2024/month=01/day=15',
        values: ['2024', '01', '15'],
        window: ['year=2024/month=01/day=15'],
      },
    ]);
  });

  test('a window of 3: the run and the 2 later days, each over its day and the 2 before (across a leap month end)', () => {
    const arg = goldWindowArgument(dataset(YMD, 3), {
      path: 'year=2024/month=02/day=28',
      values: ['2024', '02', '28'],
    });
    expect(arg.partitions.map((p) => p.path)).toEqual([
      'year=2024/month=02/day=26',
      'year=2024/month=02/day=27',
      'year=2024/month=02/day=28',
      'year=2024/month=02/day=29',
      'year=2024/month=03/day=01',
    ]);
    expect(goldTargetsOf(arg).map((t) => [t.path, t.window])).toEqual([
      [
        'year=2024/month=02/day=28',
        ['year=2024/month=02/day=26', 'year=2024/month=02/day=27', 'year=2024/month=02/day=28'],
      ],
      [
        'year=2024/month=02/day=29',
        ['year=2024/month=02/day=27', 'year=2024/month=02/day=28', 'year=2024/month=02/day=29'],
      ],
      [
        'year=2024/month=03/day=01',
        ['year=2024/month=02/day=28', 'year=2024/month=02/day=29', 'year=2024/month=03/day=01'],
      ],
    ]);
  });

  test('keys that are not the date keep the run’s values', () => {
    const arg = goldWindowArgument(dataset(REGION_DT, 2), {
      path: 'region=eu/dt=2023-12-31',
      values: ['eu', '2023-12-31'],
    });
    expect(goldTargetsOf(arg).map((t) => [t.path, t.values, t.window])).toEqual([
      [
        'region=eu/dt=2023-12-31',
        ['eu', '2023-12-31'],
        ['region=eu/dt=2023-12-30', 'region=eu/dt=2023-12-31'],
      ],
      [
        'region=eu/dt=2024-01-01',
        ['eu', '2024-01-01'],
        ['region=eu/dt=2023-12-31', 'region=eu/dt=2024-01-01'],
      ],
    ]);
  });

  test('a malformed argument is refused, naming it', () => {
    expect(() => goldTargetsOf({ size: 3, partitions: [] } as GoldWindowArgument)).toThrow(
      '--gold_window: 0 partitions for a window of 3 (expected 5)',
    );
  });

  test('the Glue job reads the argument as the TypeScript side does (glue/medallion_glue/gold_window.py)', () => {
    const args = [
      goldWindowArgument(dataset(YMD, 7), {
        path: 'year=2024/month=01/day=15',
        values: ['2024', '01', '15'],
      }),
      goldWindowArgument(dataset(REGION_DT, 2), {
        path: 'region=eu/dt=2023-12-31',
        values: ['eu', '2023-12-31'],
      }),
      goldWindowArgument(dataset(YMD), { path: 'year=2024/month=01/day=15', values: ['2024', '01', '15'] }),
    ];
    const script = [
      'import json, sys',
      'from medallion_glue.gold_window import gold_targets',
      'print(json.dumps([[{"path": t.path, "values": list(t.values), "window": list(t.window)} for t in gold_targets(a)] for a in json.loads(sys.stdin.read())]))',
    ].join('\n');
    const python = JSON.parse(
      execFileSync(venvPython(), ['-c', script], {
        cwd: 'glue',
        input: JSON.stringify(args.map((a) => JSON.stringify(a))),
        encoding: 'utf8',
      }),
    ) as unknown;
    expect(python).toEqual(args.map((a) => goldTargetsOf(a)));
  });
});
