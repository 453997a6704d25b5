import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GLUE_LIBRARY_ZIP, GLUE_SCRIPTS, PLANS_PREFIX } from './constants';

/**
 * Local serverless plugin (loaded through stack/artifacts-plugin.cjs): the Glue jobs' artifacts.
 *
 * package (offline): stages <package dir>/artifacts/ =
 *   glue/<stage script>.py          the generic job scripts (glue/*.py)
 *   glue/medallion_glue.zip         their shared Python package, for --extra-py-files
 *   plans/<dataset>.json            `medallion compile --out` (definition + generated SQL)
 *   manifest.json                   every staged file with its size and sha256
 * deploy: refuses to deploy jobs whose script is missing, then, once CloudFormation is done,
 *   uploads the staged files to the stack's ArtifactsBucket (output ArtifactsBucketName) and
 *   removes objects under glue/ and plans/ that are no longer staged (a removed dataset's plan).
 * remove: empties the artifacts bucket (every version) so that the stack can go; says what is kept.
 */

/** A fixed timestamp keeps the library zip byte-identical for identical sources. */
const ZIP_DATE = new Date('2000-01-01T00:00:00Z');

/** yazl and the CloudFormation client come with osls (the deploy tool): no dependency of our own. */
const fromOsls = createRequire(require.resolve('osls/package.json'));

export interface Manifest {
  files: Array<{ key: string; bytes: number; sha256: string }>;
}

/** An AWS SDK v3 client, or a test's stand-in. */
export interface Sender {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<any>;
}
export interface Clients {
  cfn?: Sender;
  s3?: Sender;
}

/** Files below dir, relative, sorted. */
function walk(dir: string, base = dir): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.name !== '__pycache__' && !e.name.endsWith('.pyc'))
    .flatMap((e) =>
      e.isDirectory() ? walk(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))],
    )
    .sort();
}

/** Stages the artifacts into `out` (wiped first). Returns the manifest. */
export async function stageArtifacts({
  root,
  out,
  nodeBin = process.execPath,
}: {
  root: string;
  out: string;
  nodeBin?: string;
}): Promise<Manifest> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.join(out, 'glue'), { recursive: true });
  const glueDir = path.join(root, 'glue');
  const scripts = fs.existsSync(glueDir)
    ? fs.readdirSync(glueDir).filter((f) => f.endsWith('.py') && fs.statSync(path.join(glueDir, f)).isFile())
    : [];
  for (const script of scripts.sort())
    fs.copyFileSync(path.join(glueDir, script), path.join(out, 'glue', script));

  const libDir = path.join(glueDir, 'medallion_glue');
  if (fs.existsSync(libDir)) {
    const yazl = fromOsls('yazl');
    const zip = new yazl.ZipFile();
    for (const file of walk(libDir)) {
      zip.addBuffer(
        fs.readFileSync(path.join(libDir, file)),
        `medallion_glue/${file.split(path.sep).join('/')}`,
        {
          mtime: ZIP_DATE,
          mode: 0o100644,
        },
      );
    }
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
    fs.writeFileSync(path.join(out, 'glue', GLUE_LIBRARY_ZIP), Buffer.concat(chunks));
  }

  // The real CLI, so what is uploaded is exactly what `npx medallion compile` writes.
  execFileSync(
    nodeBin,
    [path.join(root, 'bin', 'medallion.cjs'), 'compile', '--out', path.join(out, PLANS_PREFIX)],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );

  const files = walk(out)
    .filter((f) => f !== 'manifest.json')
    .map((f) => {
      const bytes = fs.readFileSync(path.join(out, f));
      return {
        key: f.split(path.sep).join('/'),
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      };
    });
  const manifest = { files };
  fs.writeFileSync(path.join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Stage scripts the jobs need that are not staged. */
export function missingScripts(
  manifest: Pick<Manifest, 'files'> | { files: Array<{ key: string }> },
): string[] {
  const staged = new Set(manifest.files.map((f) => f.key));
  return Object.values(GLUE_SCRIPTS).filter((s) => !staged.has(`glue/${s}`));
}

/* eslint-disable @typescript-eslint/no-explicit-any -- serverless' plugin API is untyped */
export class MedallionArtifactsPlugin {
  readonly hooks: Record<string, () => unknown>;
  private readonly log: { notice: (m: string) => void; warning: (m: string) => void };

  constructor(
    private readonly serverless: any,
    private readonly options: { package?: string },
    utils?: { log: any },
  ) {
    this.log = utils?.log ?? console;
    this.hooks = {
      'after:package:createDeploymentArtifacts': () => this.stage(),
      'before:deploy:deploy': () => this.checkComplete(),
      'after:deploy:deploy': () => this.upload(),
      'before:remove:remove': () => this.emptyForRemoval(),
    };
  }

  get dir(): string {
    return path.resolve(this.serverless.serviceDir, this.options.package ?? '.serverless', 'artifacts');
  }

  private fail(message: string): Error {
    return new this.serverless.classes.Error(message);
  }

  async stage(): Promise<void> {
    const manifest = await stageArtifacts({ root: this.serverless.serviceDir, out: this.dir });
    const missing = missingScripts(manifest);
    if (missing.length > 0) this.log.warning(`Glue scripts not found in glue/: ${missing.join(', ')}`);
    this.log.notice(
      `Staged ${manifest.files.length} Glue artifact(s) in ${path.relative(process.cwd(), this.dir)}`,
    );
  }

  private manifest(): Manifest {
    return JSON.parse(fs.readFileSync(path.join(this.dir, 'manifest.json'), 'utf8')) as Manifest;
  }

  checkComplete(): void {
    const missing = missingScripts(this.manifest());
    if (missing.length > 0) {
      throw this.fail(
        `Cannot deploy Glue jobs without their scripts: ${missing.join(', ')} missing from glue/`,
      );
    }
  }

  /** The deployed stack's outputs, or undefined when the stack does not exist. */
  private async stackOutputs(cfn: Sender): Promise<Record<string, string> | undefined> {
    const { DescribeStacksCommand } = fromOsls('@aws-sdk/client-cloudformation');
    const stackName = this.serverless.getProvider('aws').naming.getStackName();
    try {
      const stacks = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
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

  private async clients(clients: Clients): Promise<{ cfn: Sender; s3: () => Promise<Sender> }> {
    const provider = this.serverless.getProvider('aws');
    return {
      cfn: clients.cfn ?? (await provider.getCloudFormationClient()),
      s3: async () => clients.s3 ?? new S3Client(await provider.getAwsSdkV3Config()),
    };
  }

  /** @param clients injectable for tests; by default the deploy's own credentials and region */
  async upload(clients: Clients = {}): Promise<{ bucket: string; uploaded: string[]; removed: string[] }> {
    const { cfn, s3: s3Client } = await this.clients(clients);
    const stackName = this.serverless.getProvider('aws').naming.getStackName();
    const bucket = (await this.stackOutputs(cfn))?.['ArtifactsBucketName'];
    if (!bucket) throw this.fail(`Stack ${stackName} has no ArtifactsBucketName output`);

    const manifest = this.manifest();
    const s3 = await s3Client();
    for (const file of manifest.files) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: file.key,
          Body: fs.readFileSync(path.join(this.dir, file.key)),
          ContentType: file.key.endsWith('.json') ? 'application/json' : 'application/octet-stream',
          Metadata: { sha256: file.sha256 },
        }),
      );
    }
    const keep = new Set(manifest.files.map((f) => f.key));
    const stale: string[] = [];
    for (const prefix of ['glue/', PLANS_PREFIX]) {
      let token: string | undefined;
      do {
        const listed = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of listed.Contents ?? []) if (o.Key && !keep.has(o.Key)) stale.push(o.Key);
        token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
      } while (token);
    }
    // DeleteObjects takes at most 1,000 keys and reports per-key failures without throwing.
    for (let i = 0; i < stale.length; i += 1000) {
      const out = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: stale.slice(i, i + 1000).map((Key) => ({ Key })) },
        }),
      );
      if (out.Errors?.length) {
        throw this.fail(
          `Could not delete stale artifacts: ${out.Errors.map((e: any) => `${e.Key}: ${e.Code}`).join(', ')}`,
        );
      }
    }
    this.log.notice(
      `Uploaded ${manifest.files.length} Glue artifact(s) to s3://${bucket}/` +
        (stale.length ? `, removed ${stale.length} stale: ${stale.join(', ')}` : ''),
    );
    return { bucket, uploaded: manifest.files.map((f) => f.key), removed: stale };
  }

  /**
   * `osls remove`: CloudFormation cannot delete a bucket that holds objects, so the artifacts bucket
   * is emptied first, every version (the next deploy stages it again). Then it says what stays: the
   * lake bucket and the ledger table (DeletionPolicy RetainExceptOnCreate), to delete by hand once
   * their data may go.
   * @param clients injectable for tests; by default the command's own credentials and region
   */
  async emptyForRemoval(clients: Clients = {}): Promise<{ emptied: number; kept?: string[] }> {
    const { cfn, s3: s3Client } = await this.clients(clients);
    const outputs = await this.stackOutputs(cfn);
    if (!outputs) return { emptied: 0 };
    const bucket = outputs['ArtifactsBucketName'];
    let emptied = 0;
    if (bucket) {
      const s3 = await s3Client();
      let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
      for (;;) {
        const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, ...marker }));
        const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v: any) => ({
          Key: v.Key,
          VersionId: v.VersionId,
        }));
        for (let i = 0; i < objects.length; i += 1000) {
          const out = await s3.send(
            new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000) } }),
          );
          if (out.Errors?.length) {
            throw this.fail(
              `Could not empty s3://${bucket}: ${out.Errors.map((e: any) => `${e.Key} ${e.VersionId}: ${e.Code}`).join(', ')}`,
            );
          }
        }
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
}
