/**
 * The shared SQL subset, as a denylist: constructs that one engine accepts and the other rejects or
 * reads differently (DuckDB locally, Spark SQL 3.5 on Glue 5). Checked on code only: string literals
 * and comments are blanked first.
 */
export interface DialectRule {
  readonly name: string;
  readonly pattern: RegExp;
  readonly why: string;
  /** A statement the rule must flag (keeps the denylist honest). */
  readonly example: string;
}

export const DIALECT_DENYLIST: readonly DialectRule[] = [
  {
    name: 'double-colon cast',
    pattern: /::/,
    why: 'DuckDB cast shorthand; Spark SQL 3.5 has no `::` (use CAST or TRY_CAST)',
    example: 'SELECT amount::DECIMAL(12,2) FROM bronze',
  },
  {
    name: 'double quotes',
    pattern: /"/,
    why: 'an identifier in DuckDB but a string literal in Spark SQL',
    example: 'SELECT "amount" FROM bronze',
  },
  {
    name: 'backticks',
    pattern: /`/,
    why: 'Spark identifier quoting; DuckDB rejects it',
    example: 'SELECT `amount` FROM bronze',
  },
  {
    name: 'QUALIFY',
    pattern: /\bqualify\b/i,
    why: 'DuckDB only; filter a ROW_NUMBER() subquery instead',
    example:
      'SELECT * FROM validated QUALIFY ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY updated_at) = 1',
  },
  {
    name: 'star modifiers',
    pattern: /\*\s*(exclude|replace)\b|\bcolumns\s*\(/i,
    why: 'DuckDB `* EXCLUDE`, `* REPLACE`, COLUMNS(): list the columns',
    example: 'SELECT * EXCLUDE (_row_number) FROM d',
  },
  {
    name: 'BY ALL',
    pattern: /\b(group|order)\s+by\s+all\b/i,
    why: 'DuckDB shorthand, not part of the shared subset: write the columns out',
    example: 'SELECT country, COUNT(*) FROM silver GROUP BY ALL',
  },
  {
    name: 'engine-specific regex function',
    pattern: /\b(regexp_matches|regexp_full_match|rlike|regexp)\b(?!_)/i,
    why: 'one name in both worlds: regexp_like (DuckDB gets it from DUCKDB_PRELUDE)',
    example: "SELECT order_id RLIKE '^ORD' FROM bronze",
  },
  {
    name: 'date formatting functions',
    pattern:
      /\b(strftime|strptime|date_format|to_date|to_timestamp|unix_timestamp|from_unixtime|epoch_ms)\b/i,
    why: 'exist in one engine only, or take different format strings (strftime vs Java patterns)',
    example: "SELECT strftime(updated_at, '%Y') FROM silver",
  },
  {
    name: 'collection functions',
    pattern:
      /\b(string_agg|list_\w+|struct_pack|unnest|collect_list|collect_set|explode|posexplode|named_struct)\b|\blist\s*\(|\blateral\s+view\b/i,
    why: 'lists/structs have different functions (and DuckDB lists are 1-based, Spark arrays 0-based)',
    example: 'SELECT collect_list(order_id) FROM silver',
  },
  {
    name: 'brackets and braces',
    pattern: /[[\]{}]/,
    why: 'list/struct literals and subscripts mean different things in the two engines',
    example: "SELECT {'a': 1} AS s FROM silver",
  },
  {
    name: 'Spark-only clauses',
    pattern: /\b(distribute|cluster|sort)\s+by\b|\/\*\+/i,
    why: 'Spark physical-layout clauses and hints; DuckDB rejects or ignores them',
    example: 'SELECT * FROM silver DISTRIBUTE BY country',
  },
  {
    name: 'unbounded VARCHAR / TEXT',
    pattern: /\bas\s+(varchar|text)\b/i,
    why: 'Spark SQL 3.5 has no unbounded VARCHAR or TEXT type: use STRING',
    example: 'SELECT CAST(amount AS VARCHAR) FROM bronze',
  },
  {
    name: 'ambiguous operators',
    pattern: /\^|\*\*|\/\//,
    why: '`^` is power in DuckDB but XOR in Spark; `**` and `//` are DuckDB only',
    example: 'SELECT items ^ 2 FROM silver',
  },
  {
    name: 'parameters',
    pattern: /\$\d|\?/,
    why: 'prepared-statement parameters: the jobs run literal SQL text',
    example: 'SELECT * FROM bronze WHERE order_id = $1',
  },
  {
    name: 'more than one statement',
    pattern: /;/,
    why: 'spark.sql() runs exactly one statement',
    example: 'SELECT 1; SELECT 2',
  },
  {
    name: 'not a query',
    pattern: /^(?!\s*(select|with)\b)/i,
    why: 'every plan statement is a SELECT (or WITH … SELECT): the job does the writing',
    example: 'CREATE TABLE x AS SELECT 1',
  },
];

/**
 * The SQL with string literals emptied and comments removed, in one left-to-right scan (a quote inside
 * a comment, or `--` inside a literal, must not confuse the other).
 */
export function codeOnly(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const two = sql.slice(i, i + 2);
    if (two === '--') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (two === '/*' && sql[i + 2] !== '+') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      out += ' ';
    } else if (sql[i] === "'") {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === "'" ? 2 : 1;
      out += "''";
      i = j + 1;
    } else {
      out += sql[i];
      i += 1;
    }
  }
  return out;
}

/** Names of the denylist rules a statement breaks. */
export function dialectViolations(sql: string): string[] {
  const code = codeOnly(sql);
  return DIALECT_DENYLIST.filter((rule) => rule.pattern.test(code)).map((rule) => rule.name);
}
