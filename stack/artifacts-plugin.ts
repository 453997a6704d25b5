import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { loadRegistry } from '../shared/config/registry';
import { putMissing, unusedArtifacts, type Manifest, type PutObject } from './artifacts-deploy';
import { artifactsPrefix, glueArtifacts } from './glue-artifacts';
import { deleteKeys, type Sender } from './s3-objects';
import { emptyForRemoval } from './stack-removal';

/**
 * Local serverless plugin (loaded through stack/artifacts-plugin.cjs): the Glue jobs' artifacts
 * (stack/glue-artifacts.ts) around a deploy, and the stack's buckets around a removal.
 *
 * package: writes each artifact to .serverless/glue-artifacts/<key>, with manifest.json (name, key,
 *   size, sha256): the keys the template's jobs and PLANS_LOCATION point at.
 * deploy, after osls uploaded its own artifacts and before it updates the stack: puts every staged
 *   artifact the deployment bucket lacks there, through osls' S3 upload (retries, multipart, the
 *   deployment bucket's encryption options). A failed upload stops the deploy: the stack is not
 *   touched. After osls' cleanup: deletes the artifacts no kept deployment's template names.
 * remove: empties the artifacts bucket (stack/stack-removal.ts).
 */

export type { Manifest };
export interface Clients {
  cfn?: Sender;
  s3?: Sender;
  /** Puts one object: osls' upload by default. */
  put?: PutObject;
}

/** osls' own S3 helpers: the deploy uploads as osls uploads its artifacts. */
const fromOsls = createRequire(require.resolve('osls/package.json'));

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
    return path.join(this.serverless.serviceDir, '.serverless', 'glue-artifacts');
  }

  private get provider(): any {
    return this.serverless.getProvider('aws');
  }

  private readonly fail = (message: string): Error => new this.serverless.classes.Error(message);

  /** Where this service and stage's artifacts go in the deployment bucket. */
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

  /** Before the stack update. @param clients injectable for tests; by default osls' upload */
  async upload(clients: Clients = {}): Promise<{ bucket: string; uploaded: string[]; present: string[] }> {
    const manifest = this.manifest();
    if (manifest.prefix !== this.prefix()) {
      throw this.fail(`The package was made for ${manifest.prefix}, not ${this.prefix()}: package again`);
    }
    const bucket: string = await this.provider.getServerlessDeploymentBucketName();
    const uploadS3Object = fromOsls('./lib/plugins/aws/lib/upload-s3-object');
    const encryption = fromOsls('./lib/aws/set-s3-upload-encryption-options');
    const bucketOptions = this.serverless.service.provider.deploymentBucketObject ?? {};
    const put: PutObject =
      clients.put ?? ((params) => uploadS3Object(this.provider, encryption(params, bucketOptions)));
    const s3 = await this.s3(clients);
    const { uploaded, present } = await putMissing({ s3, put, bucket, manifest, dir: this.dir });
    this.log.notice(
      `Glue artifacts in s3://${bucket}/${manifest.prefix}: ${uploaded.length} uploaded, ${present.length} already there`,
    );
    return { bucket, uploaded, present };
  }

  /** After osls' cleanup of old deployments (it keeps the last ones for `osls rollback`). */
  async collectGarbage(clients: Clients = {}): Promise<{ deleted: string[] }> {
    const bucket: string = await this.provider.getServerlessDeploymentBucketName();
    const s3 = await this.s3(clients);
    const unused = await unusedArtifacts({ s3, bucket, manifest: this.manifest() });
    await deleteKeys(
      s3,
      bucket,
      unused.map((Key) => ({ Key })),
      this.fail,
    );
    if (unused.length) this.log.notice(`Deleted ${unused.length} Glue artifact(s) no kept deployment uses`);
    return { deleted: unused };
  }

  /** @param clients injectable for tests; by default the command's own credentials and region */
  async emptyForRemoval(clients: Clients = {}): Promise<{ emptied: number; kept?: string[] }> {
    return emptyForRemoval({
      cfn: clients.cfn ?? (await this.provider.getCloudFormationClient()),
      s3: () => this.s3(clients),
      stackName: this.provider.naming.getStackName(),
      notice: (m) => this.log.notice(m),
      fail: this.fail,
    });
  }
}
