import { readFileSync } from 'node:fs';
import type { Dataset } from '../shared/domain/datasets';
import { boundDefinition } from '../shared/domain/horizon';

/**
 * The state machine definition the local runtime runs, and the run console draws: the ASL file with
 * its Glue Tasks and the execution bounded from the datasets as the stack bounds them
 * (shared/domain/horizon.ts). Light on purpose (no ASL engine loaded), so `medallion report` can read it.
 */

export const DEFAULT_DEFINITION_PATH = 'state-machines/medallion-pipeline.asl.json';

export const readDefinition = (definition?: string | object): object =>
  definition === undefined
    ? (JSON.parse(readFileSync(DEFAULT_DEFINITION_PATH, 'utf8')) as object)
    : typeof definition === 'string'
      ? (JSON.parse(definition) as object)
      : structuredClone(definition);

/** The definition as the local runtime resolves it (the ASL file unless one is given). */
export const localDefinition = (
  definition: string | object | undefined,
  datasets: readonly Dataset[],
): object & { TimeoutSeconds: number } => boundDefinition(readDefinition(definition), datasets);
