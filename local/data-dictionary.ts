import { CDC_DELETED } from '../shared/domain/cdc';
import type { Dataset, Registry } from '../shared/domain/datasets';
import { ruleName } from '../shared/domain/datasets';
import { columnGovernance, type Classification } from '../shared/domain/governance';
import type { Zone } from '../shared/domain/layout';
import type { LocalLake } from './lake';
import { openLakeViews } from './lake-query';
import { zoneColumns } from './zone-columns';

/**
 * The data dictionary of a local lake (`medallion catalog`): for every dataset, what it is and who
 * owns it, its tables per zone with their columns, types and rules, its partition keys, its latest
 * partitions with their row counts, how fresh it is (the last successful run) and its gold SQL — what
 * an analyst needs to find and query a dataset without asking anyone.
 */

const ZONES: readonly Zone[] = ['bronze', 'silver', 'gold', 'quarantine'];
/**
 * The published HTML dictionary's file in the lake's system folder (`medallion catalog --publish`):
 * the run console links it when it exists.
 */
export const DICTIONARY_FILE = 'data-dictionary.html';

/** Partitions listed per table, newest first. */
export const LATEST_PARTITIONS = 5;

export interface DictionaryColumn {
  readonly name: string;
  readonly type: string;
  /** What the registry says the column means (dataset.yml `description`). */
  readonly description: string | undefined;
  /** Who may read it (dataset.yml `classification`; `confidential` when undeclared). */
  readonly classification: Classification;
  /** False when the column declares no classification (the default applies). */
  readonly classified: boolean;
  /** `not null` when the dataset declares it so, then the names of the rules on the column. */
  readonly constraints: readonly string[];
}

export interface DictionaryTable {
  readonly zone: Zone;
  readonly database: string;
  readonly table: string;
  readonly columns: readonly DictionaryColumn[];
  readonly partitionCount: number;
  readonly rows: number;
  /** A CDC dataset's silver: the table's current state, one row per key, not partitioned. */
  readonly currentState: boolean;
  /** The newest partitions (`k=v/...`) with their rows. */
  readonly latest: ReadonlyArray<{ readonly partition: string; readonly rows: number }>;
}

export interface DictionaryDataset {
  readonly name: string;
  readonly description: string;
  readonly owner: string | undefined;
  readonly tags: readonly string[];
  readonly landingPrefix: string;
  readonly formats: readonly string[];
  readonly partitionKeys: readonly string[];
  readonly tables: readonly DictionaryTable[];
  /** When its last successful run ended (ISO 8601), if any run succeeded. */
  readonly lastSuccessAt: string | undefined;
  readonly goldSql: string;
}

/** A CDC dataset's silver is its current state (shared/domain/cdc.ts): no partitions, tombstones hidden. */
const isCurrentState = (dataset: Dataset, zone: Zone): boolean => dataset.mode === 'cdc' && zone === 'silver';

const quoted = (name: string): string => `"${name.replace(/"/g, '""')}"`;

async function columnsOf(dataset: Dataset): Promise<Record<Zone, DictionaryColumn[]>> {
  const zones = await zoneColumns(dataset);
  const declared = new Map(dataset.columns.map((c) => [c.name, c]));
  const constraints = (zone: Zone, name: string): string[] => {
    if (zone !== 'silver') return [];
    const c = declared.get(name);
    if (!c) return [];
    return [
      ...(c.nullable === false ? ['not null'] : []),
      ...dataset.rules.filter((r) => r.column === name).map(ruleName),
    ];
  };
  return Object.fromEntries(
    ZONES.map((zone) => [
      zone,
      (isCurrentState(dataset, zone)
        ? zones[zone].filter((c) => c.name !== CDC_DELETED)
        : [...zones[zone], ...dataset.partitionKeys.map((k) => ({ name: k.name, type: 'VARCHAR' }))]
      ).map((c) => {
        const g = columnGovernance(dataset, zone, c.name);
        const key = dataset.partitionKeys.some((k) => k.name === c.name);
        return {
          name: c.name,
          type: c.type,
          description: g.description,
          classification: g.classification,
          classified: g.declared,
          constraints: key ? ['partition key'] : constraints(zone, c.name),
        };
      }),
    ]),
  ) as unknown as Record<Zone, DictionaryColumn[]>;
}

export async function dataDictionary(lake: LocalLake, registry: Registry): Promise<DictionaryDataset[]> {
  const { duck } = await openLakeViews(lake, registry);
  try {
    const out: DictionaryDataset[] = [];
    for (const dataset of registry.datasets) {
      const keys = dataset.partitionKeys.map((k) => k.name);
      const columns = await columnsOf(dataset);
      const tables: DictionaryTable[] = [];
      for (const zone of ZONES) {
        const table = dataset.catalog.tables[zone];
        const currentState = isCurrentState(dataset, zone);
        if (currentState) {
          const [all] = await duck.rows(`SELECT count(*)::BIGINT AS rows FROM ${quoted(table)}`);
          tables.push({
            zone,
            database: dataset.catalog.database,
            table,
            columns: columns[zone],
            partitionCount: 0,
            rows: Number(all?.['rows'] ?? 0),
            currentState,
            latest: [],
          });
          continue;
        }
        const byPartition = await duck.rows(
          `SELECT ${keys.map(quoted).join(', ')}, count(*)::BIGINT AS rows FROM ${quoted(table)}
           GROUP BY ALL ORDER BY ${keys.map((k) => `${quoted(k)} DESC`).join(', ')}`,
        );
        tables.push({
          zone,
          database: dataset.catalog.database,
          table,
          columns: columns[zone],
          currentState,
          partitionCount: byPartition.length,
          rows: byPartition.reduce((n, r) => n + Number(r['rows']), 0),
          latest: byPartition.slice(0, LATEST_PARTITIONS).map((r) => ({
            partition: keys.map((k) => `${k}=${String(r[k])}`).join('/'),
            rows: Number(r['rows']),
          })),
        });
      }
      const [last] = await duck.rows(
        `SELECT max(stoppedAt) AS at FROM runs WHERE dataset = '${dataset.name.replace(/'/g, "''")}' AND status = 'SUCCEEDED'`,
      );
      const at = last?.['at'];
      out.push({
        name: dataset.name,
        description: dataset.description,
        owner: dataset.owner,
        tags: dataset.tags,
        landingPrefix: dataset.landing.prefix,
        formats: dataset.landing.formats,
        partitionKeys: keys,
        tables,
        lastSuccessAt: at === null || at === undefined ? undefined : new Date(String(at)).toISOString(),
        goldSql: dataset.goldSql.trim(),
      });
    }
    return out;
  } finally {
    duck.close();
  }
}

/** "3 h 20 min ago", "never". */
export function freshness(lastSuccessAt: string | undefined, now: Date): string {
  if (!lastSuccessAt) return 'never (no successful run)';
  const minutes = Math.max(0, Math.round((now.getTime() - Date.parse(lastSuccessAt)) / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const parts = [days ? `${days} d` : '', hours ? `${hours} h` : '', `${minutes % 60} min`].filter(Boolean);
  return `${parts.join(' ')} ago (${lastSuccessAt})`;
}

/** `pii`, or `confidential (unclassified)` when the default applies. */
const classificationText = (c: DictionaryColumn): string =>
  c.classified ? c.classification : `${c.classification} (unclassified)`;

const md = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function dictionaryMarkdown(datasets: readonly DictionaryDataset[], now: Date): string {
  const lines: string[] = ['# Data dictionary', ''];
  for (const d of datasets) {
    lines.push(`## ${d.name}`, '', md(d.description), '');
    lines.push(`- **Owner:** ${d.owner ?? 'not declared'}`);
    if (d.tags.length > 0) lines.push(`- **Tags:** ${d.tags.map((t) => `\`${t}\``).join(', ')}`);
    lines.push(`- **Lands at:** \`${d.landingPrefix}\` (${d.formats.join(', ')})`);
    lines.push(`- **Partition keys:** ${d.partitionKeys.map((k) => `\`${k}\``).join(', ')}`);
    lines.push(`- **Fresh:** last successful run ${freshness(d.lastSuccessAt, now)}`, '');
    for (const t of d.tables) {
      lines.push(`### ${t.zone}: \`${t.database}.${t.table}\``, '');
      lines.push(`${rowsText(t)}.`, '');
      if (t.latest.length > 0) {
        lines.push('| latest partitions | rows |', '|---|---:|');
        for (const p of t.latest) lines.push(`| \`${p.partition}\` | ${p.rows} |`);
        lines.push('');
      }
      lines.push('| column | type | classification | description | constraints |', '|---|---|---|---|---|');
      for (const c of t.columns)
        lines.push(
          `| \`${c.name}\` | ${c.type} | ${classificationText(c)} | ${md(c.description ?? '')} | ${md(c.constraints.join(', '))} |`,
        );
      lines.push('');
    }
    lines.push('### Gold SQL', '', '```sql', d.goldSql, '```', '');
  }
  return lines.join('\n');
}

/** "N rows in P partitions", or for a CDC dataset's silver what it is. */
const rowsText = (t: DictionaryTable): string =>
  t.currentState
    ? `${t.rows} rows: the current state, one row per key merged from every run (docs/incremental.md)`
    : `${t.rows} rows in ${t.partitionCount} partitions`;

const html = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function dictionaryHtml(datasets: readonly DictionaryDataset[], now: Date): string {
  const row = (cells: string[], tag = 'td') =>
    `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
  const body = datasets
    .map((d) => {
      const tables = d.tables
        .map(
          (t) => `<section class="table" data-table="${html(t.table)}">
<h3>${html(t.zone)}: <code>${html(`${t.database}.${t.table}`)}</code></h3>
<p>${html(rowsText(t))}.</p>
${
  t.latest.length > 0
    ? `<table class="partitions">${row(['latest partitions', 'rows'], 'th')}${t.latest
        .map((p) => row([`<code>${html(p.partition)}</code>`, String(p.rows)]))
        .join('')}</table>`
    : ''
}
<table class="columns">${row(['column', 'type', 'classification', 'description', 'constraints'], 'th')}${t.columns
            .map((c) =>
              row([
                `<code>${html(c.name)}</code>`,
                html(c.type),
                `<span class="classification ${c.classification}">${html(classificationText(c))}</span>`,
                html(c.description ?? ''),
                html(c.constraints.join(', ')),
              ]),
            )
            .join('')}</table>
</section>`,
        )
        .join('\n');
      return `<article class="dataset" id="${html(d.name)}">
<h2>${html(d.name)}</h2>
<p>${html(d.description)}</p>
<ul>
<li><b>Owner:</b> ${html(d.owner ?? 'not declared')}</li>
${d.tags.length > 0 ? `<li><b>Tags:</b> ${d.tags.map((t) => `<code>${html(t)}</code>`).join(', ')}</li>\n` : ''}<li><b>Lands at:</b> <code>${html(d.landingPrefix)}</code> (${html(d.formats.join(', '))})</li>
<li><b>Partition keys:</b> ${d.partitionKeys.map((k) => `<code>${html(k)}</code>`).join(', ')}</li>
<li><b>Fresh:</b> last successful run ${html(freshness(d.lastSuccessAt, now))}</li>
</ul>
${tables}
<h3>Gold SQL</h3>
<pre><code>${html(d.goldSql)}</code></pre>
</article>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data dictionary</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}.classification.pii,.classification.confidential{color:#a00;font-weight:600}pre{background:#f6f6f6;padding:.5rem;overflow:auto}</style>
</head><body>
<h1>Data dictionary</h1>
<p>Generated ${html(now.toISOString())}; ${datasets.length} datasets.</p>
<nav>${datasets.map((d) => `<a href="#${html(d.name)}">${html(d.name)}</a>`).join(' · ')}</nav>
${body}
</body></html>
`;
}
