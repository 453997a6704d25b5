import type { Dataset, Registry, Stage } from './datasets';
import { STAGES } from './datasets';
import { InvalidRunInputError } from './pipeline-errors';
import type { RunInput } from './run';

/**
 * The execution input, validated once: "Take partition lease" refuses a malformed one before anything
 * runs (every problem named, by field), and the failure path and finish-run read the partition back
 * from `$$.Execution.Input` with the same field rules, so no state ever reads a field nobody checked.
 */

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const show = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** An input with no objects listed (a replay's, or one started by hand without them). */
export const NO_OBJECTS: RunInput['objects'] = {
  count: 0,
  bytes: 0,
  firstLandedAt: null,
  lastLandedAt: null,
  inline: [],
  notListed: 0,
};

/** The partition an execution input names, checked against the dataset's partition keys. */
function partitionProblems(input: Record<string, unknown>, dataset: Dataset): string[] {
  const problems: string[] = [];
  const keys = dataset.partitionKeys.map((k) => k.name);
  const values = input['partitionValues'];
  if (!isStringArray(values))
    problems.push(`partitionValues: expected an array of strings, got ${show(values)}`);
  else if (values.length !== keys.length)
    problems.push(
      `partitionValues: expected ${keys.length} values (${keys.join(', ')}), got ${values.length}`,
    );
  const path = input['partitionPath'];
  if (typeof path !== 'string' || path === '')
    problems.push(
      `partitionPath: expected a hive path like ${keys.map((k) => `${k}=…`).join('/')}, got ${show(path)}`,
    );
  else if (isStringArray(values) && values.length === keys.length) {
    const expected = keys.map((k, i) => `${k}=${values[i]}`).join('/');
    if (path !== expected)
      problems.push(
        `partitionPath: "${path}" does not match partitionValues ${show(values)} (expected "${expected}")`,
      );
  }
  return problems;
}

/** Dataset, partition and values of an input, or the problems that stop us from knowing them. */
export function runPartitionOf(
  raw: unknown,
  registry: Registry,
):
  | { ok: true; input: Pick<RunInput, 'dataset' | 'partition' | 'partitionValues' | 'partitionPath'> }
  | { ok: false; problems: string[] } {
  if (!isObject(raw))
    return { ok: false, problems: [`execution input: expected a JSON object, got ${show(raw)}`] };
  const name = raw['dataset'];
  if (typeof name !== 'string' || name === '')
    return { ok: false, problems: [`dataset: expected a dataset name, got ${show(name)}`] };
  const dataset = registry.datasets.find((d) => d.name === name);
  if (!dataset)
    return {
      ok: false,
      problems: [
        `dataset: unknown dataset "${name}" (known: ${registry.datasets.map((d) => d.name).join(', ')})`,
      ],
    };
  const problems = partitionProblems(raw, dataset);
  if (problems.length > 0) return { ok: false, problems };
  const values = raw['partitionValues'] as string[];
  return {
    ok: true,
    input: {
      dataset: name,
      partition: Object.fromEntries(dataset.partitionKeys.map((k, i) => [k.name, values[i] as string])),
      partitionValues: values,
      partitionPath: raw['partitionPath'] as string,
    },
  };
}

/**
 * The whole execution input, strictly: every field named by its problem, all at once
 * (InvalidRunInputError). `objects` may be absent (then none are listed); `partition`, when given,
 * must agree with `partitionValues`.
 */
export function parseRunInput(raw: unknown, registry: Registry): RunInput {
  const where = runPartitionOf(raw, registry);
  const problems = where.ok ? [] : [...where.problems];
  const input = isObject(raw) ? raw : {};
  if (where.ok && input['partition'] !== undefined) {
    const expected = where.input.partition;
    const given = input['partition'];
    if (
      !isObject(given) ||
      Object.keys(given).length !== Object.keys(expected).length ||
      Object.entries(expected).some(([k, v]) => given[k] !== v)
    )
      problems.push(`partition: expected ${show(expected)} (from partitionValues), got ${show(given)}`);
  } else if (input['partition'] === undefined && isObject(raw)) problems.push('partition: missing');
  const trigger = input['trigger'];
  if (trigger !== 'landing' && trigger !== 'replay')
    problems.push(`trigger: expected "landing" or "replay", got ${show(trigger)}`);
  const fromStage = input['fromStage'];
  if (!STAGES.includes(fromStage as Stage))
    problems.push(`fromStage: expected one of ${STAGES.join(', ')}, got ${show(fromStage)}`);
  const requestedAt = input['requestedAt'];
  if (typeof requestedAt !== 'string' || Number.isNaN(Date.parse(requestedAt)))
    problems.push(`requestedAt: expected an ISO 8601 time, got ${show(requestedAt)}`);
  const objects = input['objects'];
  if (objects !== undefined) {
    if (!isObject(objects)) problems.push(`objects: expected an object, got ${show(objects)}`);
    else {
      for (const field of ['count', 'bytes', 'notListed'])
        if (!isCount(objects[field]))
          problems.push(`objects.${field}: expected a count, got ${show(objects[field])}`);
      for (const field of ['firstLandedAt', 'lastLandedAt'])
        if (objects[field] !== null && typeof objects[field] !== 'string')
          problems.push(`objects.${field}: expected a time or null, got ${show(objects[field])}`);
      const inline = objects['inline'];
      if (
        !Array.isArray(inline) ||
        !inline.every((o) => isObject(o) && typeof o['key'] === 'string' && isCount(o['size']))
      )
        problems.push(`objects.inline: expected a list of { key, size }, got ${show(inline)}`);
    }
  }
  if (problems.length > 0 || !where.ok)
    throw new InvalidRunInputError(`Invalid execution input: ${problems.join('; ')}`);
  return {
    ...where.input,
    trigger: trigger as RunInput['trigger'],
    fromStage: fromStage as Stage,
    requestedAt: requestedAt as string,
    objects: objects === undefined ? NO_OBJECTS : (objects as unknown as RunInput['objects']),
  };
}
