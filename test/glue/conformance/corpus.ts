import { gzipSync } from 'node:zlib';
import { MAX_CSV_RECORD_BYTES } from '../../../shared/domain/landed-files';
import type { Case } from './engines';

/**
 * The conformance corpus: landing files whose reading, typing, checking, deduplication or gold
 * aggregation DuckDB and Spark could disagree on. Each case is one partition run through both engines.
 * Probe columns: id (string, required), ts (timestamp), d (double), n (int), dec (decimal(10,2)),
 * code (string, pattern ^[A-Z]{2}[0-9]+$), s (string); dedup on id by n.
 */

const NBSP = '\u00a0';
const IDEOGRAPHIC = '\u3000';

const jsonl = (...rows: ReadonlyArray<Record<string, unknown>>): string =>
  rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

const probe = (name: string, files: Case['files'], gold?: Case['gold']): Case => ({
  name,
  dataset: 'probe',
  files,
  ...(gold ? { gold } : {}),
});

const gold = (sql: string, columns: Record<string, string>) => ({
  sql,
  columns: Object.entries(columns).map(([name, type]) => ({ name, type })),
});

const basic = jsonl(
  { id: 'a', ts: '2024-01-15 10:00:00', d: '1.5', n: '1', dec: '10.10', code: 'AB1', s: 'x' },
  { id: 'b', ts: '2024-01-15 11:00:00', d: '2', n: '7', dec: '0.05', code: 'CD22', s: 'x' },
  { id: 'c', ts: '2024-01-15 12:00:00', d: '-3.25', n: '-4', dec: '3.33', code: 'EF3', s: null },
  { id: 'e', ts: null, d: null, n: null, dec: null, code: null, s: 'y' },
  { id: 'f', ts: '2024-01-15 13:00:00', d: '0.1', n: '3', dec: '1.01', code: 'GH4', s: 'y' },
);

export const CORPUS: readonly Case[] = [
  // --- timestamps
  probe('timestamps with Z', [
    {
      name: 'ts-zulu.jsonl',
      content: jsonl({ id: 'z1', ts: '2024-01-15T10:21:09Z' }, { id: 'z2', ts: '2024-01-15T10:21:09.5Z' }),
    },
  ]),
  probe('timestamps with UTC offsets', [
    {
      name: 'ts-offset.jsonl',
      content: jsonl(
        { id: 'o1', ts: '2024-01-15T10:21:09+02:00' },
        { id: 'o2', ts: '2024-01-15 10:21:09-05:30' },
        { id: 'o3', ts: '2024-01-15T10:21:09+0100' },
      ),
    },
  ]),
  probe('timestamps with named zones', [
    {
      name: 'ts-named.jsonl',
      content: jsonl(
        { id: 'n1', ts: '2024-01-15 10:21:09 Europe/Paris' },
        { id: 'n2', ts: '2024-01-15 10:21:09 UTC' },
        { id: 'n3', ts: '2024-07-15T10:21:09 America/New_York' },
      ),
    },
  ]),
  probe('partial dates and timestamps', [
    {
      name: 'ts-partial.jsonl',
      content: jsonl(
        { id: 'p1', ts: '2024' },
        { id: 'p2', ts: '2024-01' },
        { id: 'p3', ts: '10:21:09' },
        { id: 'p4', ts: '2024-01-15T24:00:00' },
        { id: 'p5', ts: '2024-01-15' },
        { id: 'p6', ts: '2024-1-5 1:2:3' },
      ),
    },
  ]),
  probe('fractional seconds', [
    {
      name: 'ts-fraction.jsonl',
      content: jsonl(
        { id: 'f1', ts: '2024-01-15 10:21:09.123456' },
        { id: 'f2', ts: '2024-01-15 10:21:09.1234567' },
      ),
    },
  ]),
  // --- spaces around values
  probe('non-breaking spaces around values', [
    {
      name: 'spaces-nbsp.jsonl',
      content: jsonl({
        id: `${NBSP}s1${NBSP}`,
        ts: `${NBSP}2024-01-15 10:00:00`,
        n: `${NBSP}5${NBSP}`,
        dec: `1.50${NBSP}`,
        d: `${NBSP}2.5`,
        code: `AB1${NBSP}`,
      }),
    },
  ]),
  probe('ideographic spaces around values', [
    {
      name: 'spaces-ideographic.jsonl',
      content: jsonl({
        id: 's2',
        ts: `2024-01-15 10:00:00${IDEOGRAPHIC}`,
        n: `${IDEOGRAPHIC}5`,
        dec: `${IDEOGRAPHIC}1.50`,
        d: `2.5${IDEOGRAPHIC}`,
        code: `${IDEOGRAPHIC}AB1`,
      }),
    },
  ]),
  probe('tabs and blanks as values', [
    {
      name: 'spaces-blank.jsonl',
      content: jsonl(
        { id: 's3', ts: '\t', n: ' ', dec: '', d: '\t2.5 ', code: ' ', s: ' ' },
        { id: '   ', s: 'blank id' },
      ),
    },
  ]),
  // --- pattern rules and line ends
  probe('newlines against pattern rules', [
    {
      name: 'pattern-newline.jsonl',
      content: jsonl(
        { id: 'l1', code: 'AB5\n' },
        { id: 'l2', code: 'AB5' },
        { id: 'l3', code: 'AB5\r\n' },
        { id: 'l4', code: 'AB\n5' },
        { id: 'l5', code: 'AB5\u2028' },
      ),
    },
  ]),
  probe('a quoted CSV value with a trailing newline', [
    { name: 'pattern-trailing.csv', content: 'id,code,ts,d,n,dec,s\nt1,"AB5\n",,,,,\nt2,AB6,,,,,\n' },
  ]),
  probe('non-ASCII letters against a pattern', [
    {
      name: 'pattern-unicode.jsonl',
      content: jsonl({ id: 'u1', code: 'ÄB5' }, { id: 'u2', code: 'AB٣' }, { id: 'u3', code: 'ＡＢ5' }),
    },
  ]),
  // --- numbers
  probe('doubles in every spelling', [
    {
      name: 'doubles.jsonl',
      content: jsonl(
        ...[
          '1d',
          '0x1p3',
          '1_000',
          'NaN',
          'Infinity',
          '-Infinity',
          'inf',
          '-0',
          '1e3',
          '1,5',
          '.5',
          '5.',
          '1.5f',
          '+2',
          '1e400',
        ].map((d, i) => ({ id: `d${i}`, d })),
      ),
    },
  ]),
  probe('integers in every spelling', [
    {
      name: 'ints.jsonl',
      content: jsonl(
        ...['+5', '007', '2147483647', '2147483648', '-2147483649', '5.0', '1e2', '0x10', '1_000', '٣'].map(
          (n, i) => ({ id: `i${i}`, n }),
        ),
      ),
    },
  ]),
  probe('decimals in every spelling', [
    {
      name: 'decimals.jsonl',
      content: jsonl(
        ...[
          '1.005',
          '1.004',
          '1e2',
          '99999999.99',
          '100000000',
          '-0.00',
          '.5',
          '+1.5',
          '1,5',
          '0x10',
          'NaN',
        ].map((dec, i) => ({ id: `m${i}`, dec })),
      ),
    },
  ]),
  probe('JSON numbers, booleans and nulls in text columns', [
    {
      name: 'json-types.jsonl',
      content:
        '{"id":"j1","n":5,"d":1.5e3,"dec":1.10,"s":true,"code":null}\n{"id":"j2","n":5.0,"d":100000000000000000000,"dec":12,"s":false}\n',
    },
  ]),
  // --- CSV
  probe('CSV with doubled quotes', [
    { name: 'csv-quotes.csv', content: 'id,s,ts,d,n,dec,code\nq1,"say ""hi""",,,,,\nq2,"a,b",,,,,\n' },
  ]),
  probe('CSV with backslashes', [
    {
      name: 'csv-backslash.csv',
      content: 'id,ts,d,n,dec,code,s\nb1,,,,,,"a\\"b"\nb2,,,,,,c:\\dir\\\nb3,,,,,,"x\\\\"\n',
    },
  ]),
  probe('CSV header case', [
    {
      name: 'csv-header-case.csv',
      content: 'ID,Code,S, Ts ,D,N,DEC\nh1,AB1,x,2024-01-15 10:00:00,1.5,2,3.25\n',
    },
  ]),
  probe('CSV with a byte order mark', [
    { name: 'csv-bom.csv', content: '\ufeffid,code,ts,d,n,dec,s\nbom1,AB1,,,,,x\n' },
  ]),
  probe('CSV with line breaks inside quoted values', [
    {
      name: 'csv-quoted-breaks.csv',
      content:
        'id,code,s,ts,d,n,dec\nqb1,AB1,"line\nbreak",,,,\nqb2,AB2,"crlf\r\nbreak",,,,\nqb3,AB3,"cr\ronly",,,,\n',
    },
  ]),
  probe('CSV with CRLF line ends and quoted line breaks', [
    {
      name: 'csv-crlf-breaks.csv',
      content: 'id,code,s,ts,d,n,dec\r\ncb1,AB1,"line\nbreak",,,,\r\ncb2,AB2,"crlf\r\nbreak",,,,\r\n',
    },
  ]),
  probe('CSV with CRLF line ends', [
    { name: 'csv-crlf.csv', content: 'id,code,s,ts,d,n,dec\r\ncr1,AB1,x,,,,\r\ncr2,AB2,,,,,\r\n' },
  ]),
  probe('CSV missing declared columns', [{ name: 'csv-missing.csv', content: 'id,s\nmc1,x\n' }]),
  probe('CSV with undeclared columns', [
    { name: 'csv-extra.csv', content: 'id,extra,s,ts,d,n,dec,code\nec1,zzz,x,,,,,\n' },
  ]),
  probe('CSV row with more fields than the header', [
    { name: 'csv-long-row.csv', content: 'id,s,ts,d,n,dec,code\nlr1,x,,,,,,y\nlr2,z,,,,,\n' },
  ]),
  probe('CSV row with fewer fields than the header', [
    { name: 'csv-short-row.csv', content: 'id,ts,d,n,dec,s,code\nsr1,,,,,x\nsr2,,,,,y,AB1\n' },
  ]),
  probe('CSV with an empty quoted value and an empty value', [
    { name: 'csv-empty-values.csv', content: 'id,ts,d,n,dec,s,code\nev1,,,,,"",\nev2,,,,,,AB1\n' },
  ]),
  probe('CSV with invalid UTF-8', [
    {
      name: 'csv-bad-utf8.csv',
      content: Buffer.concat([
        Buffer.from('id,ts,d,n,dec,code,s\ncu1,,,,,,a'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('b\ncu2,ok\n'),
      ]),
    },
  ]),
  probe('CSV value of 8 MiB (within the record limit)', [
    {
      name: 'csv-big-value.csv',
      content: `id,ts,d,n,dec,code,s\ncb1,,,,,,${'x'.repeat(8 * 1024 * 1024)}\ncb2,,,,,,y\n`,
    },
  ]),
  probe('CSV value longer than the record limit', [
    {
      name: 'csv-huge-value.csv',
      content: `id,ts,d,n,dec,code,s\nch1,,,,,,"${'x'.repeat(MAX_CSV_RECORD_BYTES + 10)}"\n`,
    },
  ]),
  probe('CSV record longer than the limit, each value shorter', [
    {
      name: 'csv-huge-record.csv',
      content: `id,ts,d,n,dec,s,code\nhr1,,,,,${'x'.repeat(9 * 1024 * 1024)},${'y'.repeat(9 * 1024 * 1024)}\n`,
    },
  ]),
  probe('gzipped CSV', [
    { name: 'csv-gz.csv.gz', content: gzipSync('id,code,n,ts,d,dec,s\ngz1,AB1,4,,,,\n') },
  ]),
  probe('CSV header only', [
    { name: 'csv-header-only.csv', content: 'id,code,ts,d,n,dec,s\n' },
    { name: 'basic.jsonl', content: basic },
  ]),
  // --- JSON lines
  probe('JSON lines with single quotes', [
    { name: 'json-single-quotes.jsonl', content: "{'id': 'sq1', 's': 'x'}\n" },
  ]),
  probe('JSON lines with an array value', [
    { name: 'json-array.jsonl', content: '{"id":"ar1","s":[1,"two"]}\n' },
  ]),
  probe('JSON lines with an object value', [
    { name: 'json-object.jsonl', content: '{"id":"ob1","s":{"k":1}}\n' },
  ]),
  probe('JSON lines with duplicate keys', [
    { name: 'json-dup-keys.jsonl', content: '{"id":"dk1","s":"first","s":"second"}\n' },
  ]),
  probe('JSON lines with invalid UTF-8', [
    {
      name: 'json-bad-utf8.jsonl',
      content: Buffer.concat([
        Buffer.from('{"id":"bu1","s":"a'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('b"}\n'),
      ]),
    },
  ]),
  probe('JSON lines with a byte order mark', [
    { name: 'json-bom.jsonl', content: '\ufeff{"id":"jb1","code":"AB1"}\n' },
  ]),
  probe('JSON lines with CRLF and blank lines', [
    { name: 'json-crlf.jsonl', content: '{"id":"jc1"}\r\n\r\n{"id":"jc2"}\r\n' },
  ]),
  probe('a pretty-printed .json file', [
    { name: 'pretty.json', content: JSON.stringify([{ id: 'pj1', s: 'x' }, { id: 'pj2' }], null, 2) },
  ]),
  probe('a pretty-printed object in .json', [
    { name: 'pretty-object.json', content: JSON.stringify({ id: 'po1', s: 'x' }, null, 2) },
  ]),
  probe('JSON lines whose keys differ in case', [
    { name: 'json-key-case.jsonl', content: '{"ID":"kc1","Code":"AB1"}\n' },
  ]),
  probe('JSON lines with a top-level array line', [
    { name: 'json-array-line.jsonl', content: '[{"id":"al1"}]\n' },
  ]),
  probe('JSON lines with an undeclared key', [
    { name: 'json-undeclared.jsonl', content: jsonl({ id: 'uk1', s: 'x' }, { id: 'uk2', extra: 'zzz' }) },
  ]),
  probe('JSON lines without some declared keys', [
    {
      name: 'json-missing-keys.jsonl',
      content: jsonl({ id: 'mk1' }, { s: 'no id' }, { id: 'mk2', n: null }),
    },
  ]),
  probe('JSON keys spelled differently across records and files', [
    { name: 'json-spelling-a.jsonl', content: '{"ID":"sp1","N":"1"}\n{"id":"sp2"," s ":"x"}\n' },
    { name: 'json-spelling-b.jsonl', content: '{"Id":"sp3","S":"y"}\n' },
  ]),
  probe('JSON lines with a key named twice in different case', [
    { name: 'json-dup-case.jsonl', content: '{"id":"dc1","s":"a","S":"b"}\n' },
  ]),
  probe('JSON lines with two objects on one line', [
    { name: 'json-two-per-line.jsonl', content: '{"id":"tp1"} {"id":"tp2"}\n' },
  ]),
  probe('JSON lines with text after the object', [
    { name: 'json-trailing.jsonl', content: '{"id":"tt1"}]\n{"id":"tt2"}\n' },
  ]),
  probe('JSON lines with a byte order mark on a later line', [
    { name: 'json-late-bom.jsonl', content: '{"id":"lb1"}\n\ufeff{"id":"lb2"}\n' },
  ]),
  probe('a .json file of pretty-printed objects one after another', [
    {
      name: 'concatenated.json',
      content: `${JSON.stringify({ id: 'cj1', s: 'x' }, null, 2)}\n${JSON.stringify({ id: 'cj2', n: 2 }, null, 2)}\n`,
    },
  ]),
  probe('a .json file of JSON lines with a byte order mark', [
    { name: 'lines.json', content: '\ufeff{"id":"lj1","d":1.5e3}\n{"id":"lj2","s":{"k":[1,2]}}\n' },
  ]),
  probe('a .json array of scalars', [{ name: 'scalars.json', content: '[1, "two"]' }]),
  probe('a .json array holding an object as a string', [
    { name: 'string-object.json', content: JSON.stringify(['{"id":"so1"}']) },
  ]),
  probe('a .json file with invalid UTF-8', [
    {
      name: 'bad-utf8.json',
      content: Buffer.concat([
        Buffer.from('[{"id":"ju1","s":"a'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}]'),
      ]),
    },
  ]),
  probe('a JSON record longer than the CSV record limit', [
    {
      name: 'json-huge.jsonl',
      content: jsonl({ id: 'jh0' }, { id: 'jh1', s: 'x'.repeat(MAX_CSV_RECORD_BYTES) }),
    },
  ]),
  probe('upper-case extensions', [
    { name: 'UPPER.JSONL', content: jsonl({ id: 'ux1' }) },
    { name: 'UPPER.CSV', content: 'ID,TS,D,N,DEC,CODE,S\nux2,,,,,,\n' },
  ]),
  // Spark reads these through a copy named '.gz' (Hadoop picks gzip by that exact suffix): the same
  // CSV semantics as a lower-case name (byte order mark, CRLF, header case, quoted line breaks).
  probe('a gzipped CSV named .CSV.GZ', [
    {
      name: 'FEED.CSV.GZ',
      content: gzipSync(
        '\ufeffID,Code,ts,d,n,dec,s\r\ngu1,AB1,,,,,"two\nlines"\r\ngu3,AB3,,1.5,2,,"say ""hi"""\r\n',
      ),
    },
    { name: 'lower.csv.gz', content: gzipSync('id,code,ts,d,n,dec,s\ngu4,AB4,,,,,x\n') },
  ]),
  probe('a gzipped JSON-lines file named .JSONL.GZ', [
    { name: 'FEED.JSONL.GZ', content: gzipSync(jsonl({ id: 'gu2' }, { ID: 'gu5', s: 'y' })) },
    {
      name: 'Pretty.Json.Gz',
      content: gzipSync(
        JSON.stringify(
          [
            { id: 'gu6', n: 6 },
            { id: 'gu7', s: null },
          ],
          null,
          2,
        ),
      ),
    },
  ]),
  probe('a corrupt gzipped JSON-lines file named .JSONL.GZ', [
    { name: 'BROKEN.JSONL.GZ', content: gzipSync('{"id":"gb1"}\n{"id": \n') },
    { name: 'basic.jsonl', content: basic },
  ]),
  // --- empty and hidden files
  probe('an empty file beside a data file', [
    { name: 'empty.jsonl', content: '' },
    { name: 'basic.jsonl', content: basic },
  ]),
  probe('a file of blank lines', [
    { name: 'blank-lines.jsonl', content: '\n\n' },
    { name: 'basic.jsonl', content: basic },
  ]),
  probe('landing files named with _ and .', [
    { name: '_underscore.jsonl', content: jsonl({ id: 'us1' }) },
    { name: '.dot.jsonl', content: jsonl({ id: 'dot1' }) },
    { name: 'basic.jsonl', content: basic },
  ]),
  // --- dedup ties
  probe('equal dedup ordering values in one file', [
    {
      name: 'ties.jsonl',
      content: jsonl(
        { id: 't1', n: '1', s: 'first' },
        { id: 't1', n: '1', s: 'second' },
        { id: 't1', n: null, s: 'null n' },
      ),
    },
  ]),
  probe('equal dedup ordering values across files', [
    { name: 'ties-a.jsonl', content: jsonl({ id: 't2', n: '1', s: 'from a' }) },
    { name: 'ties-b.csv', content: 'id,n,s,ts,d,dec,code\nt2,1,from b,,,,\n' },
  ]),
  // --- gold SQL
  probe(
    'gold over the probe rows',
    [{ name: 'gold.jsonl', content: basic }],
    [
      gold(
        'SELECT s, COUNT(*) AS rows_, SUM(dec) AS dec_sum, AVG(dec) AS dec_avg, SUM(n) AS n_sum FROM silver GROUP BY s',
        {
          s: 'string',
          rows_: 'bigint',
          dec_sum: 'decimal(20,2)',
          dec_avg: 'decimal(14,6)',
          n_sum: 'bigint',
        },
      ),
      gold(
        'SELECT id, n / 2 AS half, floor(n / 2) AS n_div, floor(d) AS d_int, round(dec) AS dec_int FROM silver',
        {
          n_div: 'bigint',
          id: 'string',
          half: 'double',
          d_int: 'int',
          dec_int: 'int',
        },
      ),
      gold("SELECT id, id || s AS joined, concat_ws('-', id, s) AS joined_ws FROM silver", {
        id: 'string',
        joined: 'string',
        joined_ws: 'string',
      }),
      gold('SELECT id, ROW_NUMBER() OVER (ORDER BY s NULLS FIRST, id NULLS LAST) AS position FROM silver', {
        id: 'string',
        position: 'bigint',
      }),
      gold('SELECT id, dt FROM silver', { id: 'string', dt: 'string' }),
      gold('SELECT s, MAX(ts) AS latest, MIN(d) AS low FROM silver GROUP BY s', {
        s: 'string',
        latest: 'timestamp',
        low: 'double',
      }),
    ],
  ),
  // --- schema drift (onDrift: alert loads the declared columns; the probe dataset halts)
  {
    name: 'drift: a CSV header with undeclared columns and without declared ones',
    dataset: 'drift',
    files: [
      { name: 'drift-a.csv', content: 'ID,Extra,code,n,notes\ndr1,x,AB1,1,note\ndr2,y,bad,2,\n' },
      { name: 'drift-b.csv', content: 'id,code,ts,d,n,dec,s\ndr3,AB3,,,3,,s\n' },
    ],
    drift: [{ file: 'drift-a.csv', undeclared: ['Extra', 'notes'], missing: ['ts', 'd', 'dec', 's'] }],
  },
  {
    name: 'drift: JSON lines with undeclared keys',
    dataset: 'drift',
    files: [
      {
        name: 'drift-c.jsonl',
        content: jsonl({ id: 'dj1', Zeta: 1, s: 'x' }, { id: 'dj2', extra: 'e' }, { id: 'dj3', Extra: 'E' }),
      },
      { name: 'drift-d.jsonl', content: jsonl({ id: 'dj4', n: '4' }) },
    ],
    drift: [{ file: 'drift-c.jsonl', undeclared: ['Extra', 'Zeta', 'extra'], missing: [] }],
  },
  {
    name: 'drift: a CSV header naming only undeclared columns is refused under alert too',
    dataset: 'drift',
    files: [{ name: 'drift-e.csv', content: 'ORD-1,C1,12.50\nx,y,z\n' }],
    drift: 'refused',
  },
  {
    ...probe('drift under halt: a CSV header without a declared column', [
      { name: 'drift-halt.csv', content: 'id,code\nh1,AB1\n' },
    ]),
    drift: 'refused',
  },
  // --- the shipped orders dataset
  {
    name: 'orders: JSON lines, gzipped CSV and a bad row',
    dataset: 'orders',
    files: [
      {
        name: 'orders.jsonl',
        content: jsonl(
          {
            order_id: 'ORD-00000001',
            customer_id: 'C1',
            status: 'placed',
            amount: '10.50',
            currency: 'EUR',
            country: 'DE',
            items: 2,
            updated_at: '2024-01-15T09:00:00Z',
          },
          {
            order_id: 'ORD-00000001',
            customer_id: 'C1',
            status: 'shipped',
            amount: 10.5,
            currency: 'EUR',
            country: 'DE',
            items: '2',
            updated_at: '2024-01-15 12:00:00',
          },
          {
            order_id: 'X-1',
            customer_id: 'C4',
            status: 'paid',
            amount: '1',
            currency: 'XXX',
            country: 'FR',
            items: '2.5',
            updated_at: '2024-01-15 10:00:00',
          },
        ),
      },
      {
        name: 'feed.csv.gz',
        content: gzipSync(
          'order_id,customer_id,status,amount,currency,country,items,updated_at\r\nORD-00000002,C2,paid,5.00,GBP,GB,3,2024-01-15 11:00:00\r\n',
        ),
      },
      {
        name: 'orders.ndjson',
        content: jsonl({
          order_id: 'ORD-00000003',
          customer_id: 'C3',
          status: 'cancelled',
          amount: '7.25',
          currency: 'USD',
          country: 'US',
          items: 1,
          updated_at: '2024-01-15 11:30:00',
        }),
      },
    ],
  },
];

/**
 * Gold SQL both engines accept but evaluate differently (the conformance suite found each): refused
 * when the dataset is compiled, with the reason.
 */
export const REFUSED_GOLD: ReadonlyArray<readonly [string, string, RegExp]> = [
  ['concat with NULL', 'SELECT id, concat(id, s) AS joined FROM silver', /concat\(\) skips NULLs in DuckDB/],
  [
    'CAST(double AS INT)',
    'SELECT id, CAST(d AS INT) AS d_int FROM silver',
    /rounds in DuckDB and truncates in Spark/,
  ],
  [
    'TRY_CAST to BIGINT',
    'SELECT id, TRY_CAST(dec AS BIGINT) AS n FROM silver',
    /rounds in DuckDB and truncates in Spark/,
  ],
  [
    'ascending NULL order',
    'SELECT id, ROW_NUMBER() OVER (ORDER BY s, id) AS position FROM silver',
    /NULLS FIRST or NULLS LAST/,
  ],
  ['double-quoted names', 'SELECT "id" FROM silver', /double quotes name a column in DuckDB/],
  ['^ as power', 'SELECT id, n ^ 2 AS sq FROM silver', /power\(\)/],
  ['integer division', 'SELECT id, n // 2 AS half FROM silver', /integer division in one engine only/],
];
