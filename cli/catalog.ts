import { writeFileSync } from 'node:fs';
import { dataDictionary, dictionaryHtml, dictionaryMarkdown } from '../local/data-dictionary';
import { LocalLake } from '../local/lake';
import { registry } from './datasets';

export interface CatalogOptions {
  readonly lake?: string;
  readonly format: 'md' | 'html';
  readonly out?: string;
}

/** `medallion catalog`: the data dictionary of the local lake, as Markdown or one HTML page. */
export async function catalog(options: CatalogOptions): Promise<number> {
  const lake = new LocalLake(options.lake).existing();
  const entries = await dataDictionary(lake, registry());
  const now = new Date();
  const text = options.format === 'html' ? dictionaryHtml(entries, now) : dictionaryMarkdown(entries, now);
  if (options.out) {
    writeFileSync(options.out, text);
    console.log(`wrote ${options.out} (${entries.length} datasets)`);
  } else process.stdout.write(text);
  return 0;
}
