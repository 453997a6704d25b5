import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  DICTIONARY_FILE,
  dataDictionary,
  dictionaryHtml,
  dictionaryMarkdown,
} from '../local/data-dictionary';
import { LocalLake } from '../local/lake';
import { registry } from './datasets';
import { UsageError } from './options';

export interface CatalogOptions {
  readonly lake?: string;
  readonly format: 'md' | 'html';
  readonly out?: string;
  /** Write the HTML dictionary into the lake, where the run console links it. */
  readonly publish?: boolean;
}

/** `medallion catalog`: the data dictionary of the local lake, as Markdown or one HTML page. */
export async function catalog(options: CatalogOptions): Promise<number> {
  if (options.publish && options.out) throw new UsageError('give --publish or --out, not both');
  const lake = new LocalLake(options.lake).existing();
  const entries = await dataDictionary(lake, registry());
  const now = new Date();
  if (options.publish) {
    const file = lake.system(DICTIONARY_FILE);
    mkdirSync(dirname(file), { recursive: true });
    // Written beside it, then renamed: a console reading it never sees half a page.
    writeFileSync(`${file}.tmp`, dictionaryHtml(entries, now));
    renameSync(`${file}.tmp`, file);
    console.log(`wrote ${file} (${entries.length} datasets): the run console links it`);
    return 0;
  }
  const text = options.format === 'html' ? dictionaryHtml(entries, now) : dictionaryMarkdown(entries, now);
  if (options.out) {
    writeFileSync(options.out, text);
    console.log(`wrote ${options.out} (${entries.length} datasets)`);
  } else process.stdout.write(text);
  return 0;
}
