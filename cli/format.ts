/** Small output helpers shared by the commands. */

export const ms = (value: number | undefined): string =>
  value === undefined ? '-' : value < 1000 ? `${Math.round(value)}ms` : `${(value / 1000).toFixed(1)}s`;

/** Renders rows as an aligned text table (values stringified, long cells cut). */
export function table(rows: ReadonlyArray<Record<string, unknown>>, maxWidth = 60): string {
  if (rows.length === 0) return '(no rows)';
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s;
  };
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** Progress on stderr (keeps stdout clean for --json), only when stderr is a terminal or forced. */
export function progress(enabled: boolean): (message: string) => void {
  return enabled ? (message) => process.stderr.write(`${message}\n`) : () => undefined;
}
