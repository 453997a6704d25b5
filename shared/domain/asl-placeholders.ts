import { MedallionError } from './errors';

/**
 * The one placeholder grammar of the state machine definition: `${Name}` (letters, digits, `_`) in a
 * string value, never in a key. The stack (stack/definition.ts) binds each name to a CloudFormation value;
 * the local ASL runner (local/asl-runner.ts) binds it to a local one. A Lambda task names its
 * function as `${<Folder>FunctionArn}`: `${RecordStageFunctionArn}` is functions/record-stage.
 */

export const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** The definition uses `${` outside the grammar, or a placeholder in a key. */
export class PlaceholderError extends MedallionError {
  readonly retryable = false;
}

/** Every `${Name}` in a text, in order of first appearance. */
export const placeholdersOf = (text: string): string[] => [
  ...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string)),
];

/** `record-stage` → `RecordStageFunctionArn`. */
export const functionPlaceholder = (folder: string): string =>
  `${folder.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase())}FunctionArn`;

/** `RecordStageFunctionArn` → `record-stage`; undefined for a placeholder that names no function. */
export const functionFolderOf = (placeholder: string): string | undefined =>
  placeholder.endsWith('FunctionArn')
    ? placeholder
        .replace(/FunctionArn$/, '')
        .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
        .toLowerCase()
    : undefined;

/**
 * Replaces every placeholder in every string of `node` by the parts `bind` gives for it (strings, or
 * values such as CloudFormation intrinsics). Adjacent strings are merged; a string that becomes one
 * part becomes that part, one of several parts becomes `join(parts)`. `where` is a JSONPath-like
 * location used in errors.
 */
export function bindPlaceholders<P>(
  node: unknown,
  bind: (name: string, where: string) => ReadonlyArray<string | P>,
  join: (parts: ReadonlyArray<string | P>) => unknown,
  where = '$',
  source = 'the state machine definition',
): unknown {
  if (typeof node === 'string') {
    if (!node.includes('${')) return node;
    const parts: Array<string | P> = [];
    let last = 0;
    for (const m of node.matchAll(PLACEHOLDER)) {
      if (m.index > last) parts.push(node.slice(last, m.index));
      parts.push(...bind(m[1] as string, where));
      last = m.index + m[0].length;
    }
    if (last < node.length) parts.push(node.slice(last));
    const literal = node.replace(PLACEHOLDER, '');
    if (literal.includes('${'))
      throw new PlaceholderError(
        `${source}: ${where}: "\${" that is not a \${Name} placeholder in "${node}"`,
      );
    const merged = parts.reduce<Array<string | P>>((acc, part) => {
      const prev = acc[acc.length - 1];
      if (typeof part === 'string' && typeof prev === 'string') acc[acc.length - 1] = prev + part;
      else acc.push(part);
      return acc;
    }, []);
    return merged.length === 1 ? merged[0] : join(merged);
  }
  if (Array.isArray(node))
    return node.map((v, i) => bindPlaceholders(v, bind, join, `${where}[${i}]`, source));
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => {
        if (k.includes('${'))
          throw new PlaceholderError(`${source}: ${where}: placeholders are not allowed in keys ("${k}")`);
        return [k, bindPlaceholders(v, bind, join, `${where}.${k}`, source)];
      }),
    );
  }
  return node;
}
