import type { FileFormat } from '../../shared/domain/datasets';
import {
  EMPTY_FILE_REASON,
  fileFormatOf,
  matchColumns,
  MAX_CSV_RECORD_BYTES,
  WHITESPACE,
} from '../../shared/domain/landed-files';
import { runPython } from './python';

/**
 * The landed-file rules exist twice: shared/domain/landed-files.ts (on-landing, the local runner) and
 * glue/medallion_glue/landing.py (the Glue bronze job). Both run over the same cases here.
 */

const FORMATS: FileFormat[] = ['jsonl', 'csv'];
const NAMES = [
  'a.jsonl',
  'b.JSONL',
  'c.CSV.GZ',
  'd.Json.Gz',
  'e.ndjson',
  'f.csv.gz.tmp',
  'g.txt',
  'h.CSV',
  '_SUCCESS',
  'i.gz',
];

const DECLARED = ['order_id', 'customer_id', 'amount'];
const HEADERS: Array<[string[], boolean]> = [
  [['order_id', 'customer_id', 'amount'], true],
  [[' Amount ', 'ORDER_ID', '\u00a0Customer_Id\t'], true],
  [['order_id', 'amount'], true],
  [['order_id', 'amount'], false],
  [['order_id', 'Order_Id', 'amount', 'customer_id'], true],
  [['order_id', '', 'amount', ' ', 'customer_id'], true],
  [['order_id', 'amount', 'customer_id', 'Extra', 'notes'], false],
  [['Country', 'country', 'order_id'], false],
  [['order_id', 'amount', 'amount', 'AMOUNT', 'Ünïcode'], true],
  [[], true],
];

describe('landed-file rules: TypeScript and the Glue package agree', () => {
  test('formats by extension, in any case', () => {
    // Act
    const python = runPython<Array<[string, boolean] | null>>(
      'import json, sys\nfrom medallion_glue.landing import file_format\n' +
        'names = json.load(sys.stdin)\n' +
        'print(json.dumps([[f, n.lower().endswith(".gz")] if (f := file_format(n, ["jsonl", "csv"])) else None for n in names]))',
      NAMES,
    );
    const ts = NAMES.map((n) => {
      const f = fileFormatOf(n, FORMATS);
      return f ? [f.format, f.gzipped] : null;
    });
    // Assess
    expect(python).toEqual(ts);
    expect(ts).toEqual([
      ['jsonl', false],
      ['jsonl', false],
      ['csv', true],
      ['jsonl', true],
      ['jsonl', false],
      null,
      null,
      ['csv', false],
      null,
      null,
    ]);
  });

  test.each(['halt', 'alert'] as const)(
    'column matching under onDrift: %s: positions, problems and drift',
    (policy) => {
      // Act
      const python = runPython<Array<[Record<string, number>, string[], unknown]>>(
        'import json, sys\nfrom medallion_glue.landing import match_columns\n' +
          'cases, declared, policy = json.load(sys.stdin)\n' +
          'print(json.dumps([list(match_columns(names, declared, require_all, policy)) for names, require_all in cases]))',
        [HEADERS, DECLARED, policy],
      );
      const ts = HEADERS.map(([names, requireAll]) => {
        const m = matchColumns(names, DECLARED, requireAll, policy);
        return [Object.fromEntries(m.positions), m.problems, m.drift];
      });
      // Assess
      expect(python).toEqual(ts);
      const noDrift = { undeclared: [], missing: [] };
      expect(ts[1]).toEqual([{ order_id: 1, customer_id: 2, amount: 0 }, [], noDrift]);
      expect(ts[2]?.[2]).toEqual({ undeclared: [], missing: ['customer_id'] });
      expect(ts[3]?.[1]).toEqual([]);
      expect(ts[3]?.[2]).toEqual(noDrift); // a JSON record without a key: a missing value, not drift
      expect(ts[4]?.[1]).toEqual(['column order_id is named 2 times ("order_id", "Order_Id")']);
      expect(ts[6]?.[2]).toEqual({ undeclared: ['Extra', 'notes'], missing: [] });
      expect(ts[6]?.[0]).toEqual({ order_id: 0, customer_id: 2, amount: 1 });
      if (policy === 'halt') {
        expect(ts[2]?.[1]).toEqual(['missing declared column(s) customer_id']);
        expect(ts[6]?.[1]).toEqual([
          'undeclared column(s) "Extra", "notes" (declare them in the dataset\'s columns, or leave them out of the export)',
        ]);
      } else {
        // drift is reported, never a problem; a blank or repeated name still is
        expect(ts[2]?.[1]).toEqual([]);
        expect(ts[6]?.[1]).toEqual([]);
        expect(ts[4]?.[1]).toEqual(['column order_id is named 2 times ("order_id", "Order_Id")']);
      }
    },
  );

  test('the same whitespace, record limit and skip reason', () => {
    const python = runPython<unknown[]>(
      'import json\nfrom medallion_glue import contract as c\n' +
        'print(json.dumps([c.WHITESPACE, c.MAX_CSV_RECORD_BYTES, c.EMPTY_FILE_REASON]))',
    );
    expect(python).toEqual([WHITESPACE, MAX_CSV_RECORD_BYTES, EMPTY_FILE_REASON]);
  });
});
