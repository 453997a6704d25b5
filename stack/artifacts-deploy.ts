import fs from 'node:fs';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { exists, listKeys, type Sender } from './s3-objects';

/**
 * The deploy's two steps on the content-addressed Glue artifacts (stack/glue-artifacts.ts) in the
 * deployment bucket: put what is missing before the stack update, and after osls' cleanup find what
 * no kept deployment names any more.
 */

export interface Manifest {
  /** `serverless/<service>/<stage>/glue-artifacts/` */
  prefix: string;
  files: Array<{ name: string; key: string; bytes: number; sha256: string }>;
}

export type PutObject = (params: {
  Bucket: string;
  Key: string;
  Body: Buffer;
  ContentType: string;
  Metadata: Record<string, string>;
}) => Promise<unknown>;

/** The file osls keeps of each deployment it keeps (`serverless/<service>/<stage>/<timestamp>/`). */
const DEPLOYED_TEMPLATE = 'compiled-cloudformation-template.json';
const DEPLOYMENT_DIR = /^\d+-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;

/**
 * Puts every staged artifact (under `dir`, at its key) the bucket does not hold yet: a key is its
 * content's hash, so a key already there holds these bytes.
 */
export async function putMissing(p: {
  s3: Sender;
  put: PutObject;
  bucket: string;
  manifest: Manifest;
  dir: string;
}): Promise<{ uploaded: string[]; present: string[] }> {
  const uploaded: string[] = [];
  const present: string[] = [];
  for (const file of p.manifest.files) {
    if (await exists(p.s3, p.bucket, file.key)) {
      present.push(file.key);
      continue;
    }
    await p.put({
      Bucket: p.bucket,
      Key: file.key,
      Body: fs.readFileSync(path.join(p.dir, file.key)),
      ContentType: file.key.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      Metadata: { sha256: file.sha256 },
    });
    uploaded.push(file.key);
  }
  return { uploaded, present };
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The artifacts under `manifest.prefix` that neither this deployment nor a deployment osls kept
 * (for `osls rollback`) names: keys (scripts, library) or key prefixes (plans) in their templates.
 */
export async function unusedArtifacts(p: {
  s3: Sender;
  bucket: string;
  manifest: Manifest;
}): Promise<string[]> {
  const { prefix } = p.manifest;
  const stageDir = prefix.replace(/[^/]+\/$/, '');
  const keys = await listKeys(p.s3, p.bucket, stageDir);
  const named = new Set(p.manifest.files.map((f) => f.key));
  const keyPattern = new RegExp(`${escapeRegExp(prefix)}[^"\\s]+`, 'g');
  for (const key of keys) {
    const rest = key.slice(stageDir.length);
    if (!DEPLOYMENT_DIR.test(rest) || !rest.endsWith(`/${DEPLOYED_TEMPLATE}`)) continue;
    const object = await p.s3.send(new GetObjectCommand({ Bucket: p.bucket, Key: key }));
    const text: string = await object.Body.transformToString();
    for (const m of text.matchAll(keyPattern)) named.add(m[0]);
  }
  const used = (key: string) =>
    named.has(key) || [...named].some((n) => n.endsWith('/') && key.startsWith(n));
  return keys.filter((k) => k.startsWith(prefix) && !used(k));
}
