import { join } from 'node:path';
import { loadRegistry } from '../../shared/config/registry';
import type { Log } from '../../shared/ports';

export const shippedRegistry = () => loadRegistry(join(process.cwd(), 'datasets'));

/** A logger that keeps its lines, for asserting on what operators would read. */
export function memoryLog(): Log & {
  lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }>;
} {
  const lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (message: string, ...attributes: Array<Record<string, unknown>>) =>
      lines.push({ level, message, attributes: Object.assign({}, ...attributes) as Record<string, unknown> });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
