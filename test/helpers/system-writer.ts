/**
 * A second process writing a lake's `_system/` files, for test/local/system-lock.test.ts: claims the
 * objects `obj-0` … `obj-<count-1>` in the file ledger for the execution `<label>`, one call each, and
 * registers one catalog partition `[<label>, i]` per call, then prints the objects it won as JSON.
 * Run with `node --import tsx test/helpers/system-writer.ts <systemDir> <label> <count>`.
 */
import { join } from 'node:path';
import { FileObjectLedger } from '../../local/file-ledger';
import { FileCatalog } from '../../local/system-store';

async function main(): Promise<void> {
  const [systemDir = '', label = '', count = '0'] = process.argv.slice(2);
  const ledger = new FileObjectLedger(join(systemDir, 'ledger.json'));
  const catalog = new FileCatalog(join(systemDir, 'catalog.json'));
  const won: string[] = [];
  for (let i = 0; i < Number(count); i++) {
    const [outcome] = await ledger.claim([`obj-${i}`], label, new Date());
    if (outcome?.outcome === 'claimed') won.push(`obj-${i}`);
    await catalog.registerPartitions({
      database: 'db',
      table: 't',
      partitions: [{ values: [label, String(i)], location: `file:///lake/${label}/${i}/` }],
    });
  }
  process.stdout.write(JSON.stringify(won));
}

void main();
