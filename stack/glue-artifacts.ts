import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import type { Dataset } from '../shared/domain/datasets';
import { planFileText } from '../shared/domain/sql';
import { GLUE_LIBRARY_ZIP, GLUE_SCRIPTS } from './constants';

/**
 * The Glue jobs' artifacts, content-addressed: every stage script, the scripts' library
 * (glue/medallion_glue zipped for --extra-py-files) and the compiled dataset plans, each under a key
 * that holds the sha256 of its bytes. The template points the jobs at these keys, so a changed script
 * is a changed template: the artifacts are uploaded before the stack update (stack/artifacts-plugin.ts,
 * through osls' own S3 upload), a failed upload stops the deploy before CloudFormation changes
 * anything, and a rollback points the jobs back at the previous keys, which are still there.
 *
 * They live in serverless' deployment bucket, which exists before the first stack update, under
 * `<prefix>/<service>/<stage>/glue-artifacts/` (osls' cleanup keeps away from it; `osls remove` empties it).
 */

export interface GlueArtifact {
  /** What it is: `glue/medallion_bronze.py`, `glue/medallion_glue.zip`, `plans/orders.json`. */
  name: string;
  /** Its S3 key in the deployment bucket. */
  key: string;
  sha256: string;
  bytes: Buffer;
}

export interface GlueArtifacts {
  files: GlueArtifact[];
  /** Key of each stage's script. */
  scripts: Record<keyof typeof GLUE_SCRIPTS, string>;
  /** Key of the library zip; undefined when glue/medallion_glue does not exist. */
  library: string | undefined;
  /** Key prefix of the plans (`<plans>/<dataset>.json`): the hash of all plans together. */
  plans: string;
}

/** Where the artifacts of a stage go in the deployment bucket (osls' deployment prefix `serverless`). */
export const artifactsPrefix = (service: string, stage: string): string =>
  `serverless/${service}/${stage}/glue-artifacts/`;

/** A fixed timestamp keeps the library zip byte-identical for identical sources. */
const ZIP_DATE = new Date('2000-01-01T00:00:00Z');

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** Files below dir, relative with `/`, sorted; no byte code. */
function walk(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.name !== '__pycache__' && !e.name.endsWith('.pyc'))
    .flatMap((e) =>
      e.isDirectory()
        ? walk(join(dir, e.name), base)
        : [relative(base, join(dir, e.name)).split(sep).join('/')],
    )
    .sort();
}

/** glue/medallion_glue as a zip, byte-identical for identical sources (yazl comes with osls). */
async function libraryZip(dir: string): Promise<Buffer> {
  const yazl = createRequire(require.resolve('osls/package.json'))('yazl');
  const zip = new yazl.ZipFile();
  for (const file of walk(dir)) {
    zip.addBuffer(readFileSync(join(dir, file)), `medallion_glue/${file}`, {
      mtime: ZIP_DATE,
      mode: 0o100644,
    });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Builds the artifacts of `root` (glue/, the datasets) for a stage's deployment. */
export async function glueArtifacts(
  root: string,
  datasets: readonly Dataset[],
  prefix: string,
): Promise<GlueArtifacts> {
  const glueDir = join(root, 'glue');
  const missing = Object.values(GLUE_SCRIPTS).filter((s) => !existsSync(join(glueDir, s)));
  if (missing.length > 0) {
    throw new Error(
      `Cannot deploy the Glue jobs without their scripts: ${missing.join(', ')} missing from glue/`,
    );
  }
  const addressed = (name: string, bytes: Buffer): GlueArtifact => {
    const hash = sha256(bytes);
    const [folder, file] = name.split('/') as [string, string];
    return { name, key: `${prefix}${folder}/${hash}/${file}`, sha256: hash, bytes };
  };
  const scriptFiles = readdirSync(glueDir)
    .filter((f) => f.endsWith('.py') && statSync(join(glueDir, f)).isFile())
    .sort()
    .map((f) => addressed(`glue/${f}`, readFileSync(join(glueDir, f))));
  const libDir = join(glueDir, 'medallion_glue');
  const library = existsSync(libDir)
    ? addressed(`glue/${GLUE_LIBRARY_ZIP}`, await libraryZip(libDir))
    : undefined;
  // The plans are read as `<plans prefix><dataset>.json`: one hash over all of them.
  const plans = [...datasets]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((d) => ({ name: `plans/${d.name}.json`, bytes: Buffer.from(planFileText(d)) }));
  const plansHash = sha256(plans.map((p) => `${p.name} ${sha256(p.bytes)}\n`).join(''));
  const plansPrefix = `${prefix}plans/${plansHash}/`;
  const planFiles = plans.map((p) => ({
    name: p.name,
    key: `${plansPrefix}${p.name.slice('plans/'.length)}`,
    sha256: sha256(p.bytes),
    bytes: p.bytes,
  }));
  const keyOf = (script: string) => scriptFiles.find((f) => f.name === `glue/${script}`)!.key;
  return {
    files: [...scriptFiles, ...(library ? [library] : []), ...planFiles],
    scripts: {
      bronze: keyOf(GLUE_SCRIPTS.bronze),
      silver: keyOf(GLUE_SCRIPTS.silver),
      gold: keyOf(GLUE_SCRIPTS.gold),
    },
    library: library?.key,
    plans: plansPrefix,
  };
}
