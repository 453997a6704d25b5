import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { loadRegistry } from '../shared/config/registry';
import { artifactsPrefix, glueArtifacts } from './glue-artifacts';

/**
 * Local serverless plugin (loaded through stack/artifacts-plugin.cjs): the Glue jobs' artifacts
 * (stack/glue-artifacts.ts) and the stack's buckets around a deploy and a removal.
 *
 * package: writes each artifact to <package dir>/glue-artifacts/<key>, with manifest.json (name,
 *   key, size, sha256): the keys the template's jobs and PLANS_LOCATION point at.
 * deploy, after osls uploaded its own artifacts and before it updates the stack: puts every staged
 *   artifact not yet in the deployment bucket there, through osls' S3 upload (retries, multipart,
 *   the deployment bucket's encryption options). A failed upload stops the deploy: the stack is
 *   not touched. After osls' cleanup: deletes the artifacts no kept deployment's template points at
 *   (osls keeps the last deployments for `osls rollback`; their artifacts stay).
 * remove: empties the artifacts bucket (Glue temp files, query results; every version) so that the
 *   stack can go; says what is kept.
 */

/** osls' own S3 helpers: the deploy uploads as osls uploads its artifacts. */
const fromOsls = createRequire(require.resolve('osls/package.json'));

export interface ManifestFile {
  name: string;
  key: string;
  bytes: number;
  sha256: string;
}
export interface Manifest {
  prefix: string;
  files: ManifestFile[];
}

/** An AWS SDK v3 client, or a test's stand-in. */
export interface Sender {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<any>;
}
export interface Clients {
  cfn?: Sender;
  s3?: Sender;
  /** Puts one object: osls' upload by default. */
  put?: (params: {
    Bucket: string;
    Key: string;
    Body: Buffer;
    ContentType: string;
    Metadata: Record<string, string>;
  }) => Promise<unknown>;
}

export const STAGED_DIR = 'glue-artifacts';
/** The file osls keeps of each deployment: its template. */
const DEPLOYED_TEMPLATE = 'compiled-cloudformation-template.json';
const DEPLOYMENT_DIR = /^\d+-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;

/* eslint-disable @typescript-eslint/no-explicit-any -- serverless' plugin API is untyped */
export class MedallionArtifactsPlugin {
  readonly hooks: Record<string, () => unknown>;
  private readonly log: { notice: (m: string) => void; warning: (m: string) => void };

  constructor(
    private readonly serverless: any,
    _options: unknown,
    utils?: { log: any },
  ) {
    this.log = utils?.log ?? console;
    const unlessUnchanged = (step: () => Promise<unknown>) => () =>
      this.serverless.service.provider.shouldNotDeploy ? undefined : step();
    this.hooks = {
      'after:package:createDeploymentArtifacts': () => this.stage(),
      'after:aws:deploy:deploy:uploadArtifacts': unlessUnchanged(() => this.upload()),
      'after:aws:deploy:finalize:cleanup': unlessUnchanged(() => this.collectGarbage()),
      'before:remove:remove': () => this.emptyForRemoval(),
    };
  }

  /**
   * Staged in the service's .serverless/ whatever --package says: osls builds there and moves it all
   * to the --package folder, and copies that folder back before a `deploy --package`.
   */
  get dir(): string {
    return path.join(this.serverless.serviceDir, '.serverless', STAGED_DIR);
  }

  private get provider(): any {
    return this.serverless.getProvider('aws');
  }

  private fail(message: string): Error {
    return new this.serverless.classes.Error(message);
  }

  /** The prefix of this service and stage's artifacts in the deployment bucket. */
  private prefix(): string {
    const deploymentPrefix = this.provider.getDeploymentPrefix?.() ?? 'serverless';
    if (deploymentPrefix !== 'serverless') {
      throw this.fail(
        `provider.deploymentPrefix "${deploymentPrefix}": the Glue artifacts' keys assume "serverless"`,
      );
    }
    return artifactsPrefix(this.serverless.service.service, this.provider.getStage());
  }

  async stage(): Promise<Manifest> {
    const root = this.serverless.serviceDir;
    const prefix = this.prefix();
    const artifacts = await glueArtifacts(root, loadRegistry(path.join(root, 'datasets')).datasets, prefix);
    fs.rmSync(this.dir, { recursive: true, force: true });
    for (const file of artifacts.files) {
      fs.mkdirSync(path.dirname(path.join(this.dir, file.key)), { recursive: true });
      fs.writeFileSync(path.join(this.dir, file.key), file.bytes);
    }
    const manifest: Manifest = {
      prefix,
      files: artifacts.files.map(({ name, key, sha256, bytes }) => ({
        name,
        key,
        bytes: bytes.length,
        sha256,
      })),
    };
    fs.writeFileSync(path.join(this.dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    this.log.notice(
      `Staged ${manifest.files.length} Glue artifact(s) in ${path.relative(process.cwd(), this.dir)}`,
    );
    return manifest;
  }

  manifest(): Manifest {
    return JSON.parse(fs.readFileSync(path.join(this.dir, 'manifest.json'), 'utf8')) as Manifest;
  }

  private async s3(clients: Clients): Promise<Sender> {
    return clients.s3 ?? new S3Client(await this.provider.getAwsSdkV3Config());
  }

  /**
   * Before the stack update: every staged artifact the deployment bucket does not hold yet (a key is
   * its content's hash, so a key already there holds these bytes).
   * @param clients injectable for tests; by default osls' upload with the deploy's credentials
   */
  async upload(clients: Clients = {}): Promise<{ bucket: string; uploaded: string[]; present: string[] }> {
    const manifest = this.manifest();
    if (manifest.prefix !== this.prefix()) {
      throw this.fail(`The package was made for ${manifest.prefix}, not ${this.prefix()}: package again`);
    }
    const bucket: string = await this.provider.getServerlessDeploymentBucketName();
    const s3 = await this.s3(clients);
    const uploadS3Object = fromOsls('./lib/plugins/aws/lib/upload-s3-object');
    const encryption = fromOsls('./lib/aws/set-s3-upload-encryption-options');
    const put =
      clients.put ??
      ((params: Record<string, unknown>) =>
        uploadS3Object(
          this.provider,
          encryption(params, this.serverless.service.provider.deploymentBucketObject ?? {}),
        ));
    const uploaded: string[] = [];
    const present: string[] = [];
    for (const file of manifest.files) {
      if (await exists(s3, bucket, file.key)) {
        present.push(file.key);
        continue;
      }
      const body = fs.readFileSync(path.join(this.dir, file.key));
      await put({
        Bucket: bucket,
        Key: file.key,
        Body: body,
        ContentType: file.key.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        Metadata: { sha256: file.sha256 },
      });
      uploaded.push(file.key);
    }
    this.log.notice(
      `Glue artifacts in s3://${bucket}/${manifest.prefix}: ${uploaded.length} uploaded, ${present.length} already there`,
    );
    return { bucket, uploaded, present };
  }

  /**
   * After osls' cleanup of old deployments: deletes the artifacts that neither this deployment nor a
   * deployment osls kept (for `osls rollback`) points at.
   */
  async collectGarbage(clients: Clients = {}): Promise<{ deleted: string[] }> {
    const bucket: string = await this.provider.getServerlessDeploymentBucketName();
    const s3 = await this.s3(clients);
    const prefix = this.prefix();
    const stageDir = prefix.slice(0, prefix.length - `${STAGED_DIR}/`.length);
    const keys = await listKeys(s3, bucket, stageDir);
    // Keys (scripts, library) and key prefixes (plans) the templates name.
    const referenced = new Set(this.manifest().files.map((f) => f.key));
    const keyPattern = new RegExp(`${escapeRegExp(prefix)}[^"\\s]+`, 'g');
    for (const key of keys) {
      const rest = key.slice(stageDir.length);
      if (!DEPLOYMENT_DIR.test(rest) || !rest.endsWith(`/${DEPLOYED_TEMPLATE}`)) continue;
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text: string = await object.Body.transformToString();
      for (const m of text.matchAll(keyPattern)) referenced.add(m[0]);
    }
    const used = (key: string) =>
      referenced.has(key) || [...referenced].some((r) => r.endsWith('/') && key.startsWith(r));
    const unreferenced = keys.filter((k) => k.startsWith(prefix) && !used(k));
    await deleteKeys(
      s3,
      bucket,
      unreferenced.map((Key) => ({ Key })),
      (m) => this.fail(m),
    );
    if (unreferenced.length)
      this.log.notice(`Deleted ${unreferenced.length} Glue artifact(s) no kept deployment uses`);
    return { deleted: unreferenced };
  }

  /**
   * `osls remove`: CloudFormation cannot delete a bucket that holds objects, so the artifacts bucket
   * is emptied first, every version. Then it says what stays: the lake bucket and the ledger table
   * (DeletionPolicy RetainExceptOnCreate), to delete by hand once their data may go. (osls empties
   * its deployment bucket, the Glue artifacts with it.)
   * @param clients injectable for tests; by default the command's own credentials and region
   */
  async emptyForRemoval(clients: Clients = {}): Promise<{ emptied: number; kept?: string[] }> {
    const cfn = clients.cfn ?? (await this.provider.getCloudFormationClient());
    const outputs = await this.stackOutputs(cfn);
    if (!outputs) return { emptied: 0 };
    const bucket = outputs['ArtifactsBucketName'];
    let emptied = 0;
    if (bucket) {
      const s3 = await this.s3(clients);
      let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
      for (;;) {
        const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, ...marker }));
        const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v: any) => ({
          Key: v.Key,
          VersionId: v.VersionId,
        }));
        await deleteKeys(s3, bucket, objects, (m) => this.fail(m));
        emptied += objects.length;
        if (!page.IsTruncated) break;
        marker = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
      }
      this.log.notice(`Emptied s3://${bucket} (${emptied} object versions) so that the stack can be removed`);
    }
    const kept = [
      outputs['LakeBucketName'] && `lake bucket ${outputs['LakeBucketName']}`,
      outputs['LedgerTableName'] && `ledger table ${outputs['LedgerTableName']}`,
    ].filter((k): k is string => Boolean(k));
    if (kept.length)
      this.log.notice(
        `Kept (they hold data): ${kept.join(', ')}. Delete them by hand once their data may go.`,
      );
    return { emptied, kept };
  }

  /** The deployed stack's outputs, or undefined when the stack does not exist. */
  private async stackOutputs(cfn: Sender): Promise<Record<string, string> | undefined> {
    const { DescribeStacksCommand } = fromOsls('@aws-sdk/client-cloudformation');
    try {
      const stacks = await cfn.send(
        new DescribeStacksCommand({ StackName: this.provider.naming.getStackName() }),
      );
      return Object.fromEntries(
        (stacks.Stacks?.[0]?.Outputs ?? []).map((o: { OutputKey: string; OutputValue: string }) => [
          o.OutputKey,
          o.OutputValue,
        ]),
      );
    } catch (error) {
      if (/does not exist/.test(String((error as Error).message))) return undefined;
      throw error;
    }
  }
}

async function exists(s3: Sender, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}

async function listKeys(s3: Sender, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** DeleteObjects takes at most 1,000 keys and reports per-key failures without throwing. */
async function deleteKeys(
  s3: Sender,
  bucket: string,
  objects: Array<{ Key: string; VersionId?: string }>,
  fail: (message: string) => Error,
): Promise<void> {
  for (let i = 0; i < objects.length; i += 1000) {
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000) } }),
    );
    if (out.Errors?.length) {
      throw fail(
        `Could not delete from s3://${bucket}: ${out.Errors.map((e: any) => `${e.Key}${e.VersionId ? ` ${e.VersionId}` : ''}: ${e.Code}`).join(', ')}`,
      );
    }
  }
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
