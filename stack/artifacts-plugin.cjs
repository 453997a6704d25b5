/* global Buffer */
'use strict';
// Local serverless plugin: the Glue jobs' artifacts.
//
// package (offline): stages <package dir>/artifacts/ =
//   glue/<stage script>.py          the generic job scripts (glue/*.py)
//   glue/medallion_glue.zip         their shared Python package, for --extra-py-files
//   plans/<dataset>.json            `medallion compile --out` (definition + generated SQL)
//   manifest.json                   every staged file with its size and sha256
// deploy: refuses to deploy jobs whose script is missing, then, once CloudFormation is done,
//   uploads the staged files to the stack's ArtifactsBucket (output ArtifactsBucketName) and
//   removes objects under glue/ and plans/ that are no longer staged (a removed dataset's plan).
// remove: empties the artifacts bucket (every version) so that the stack can go; says what is kept.
const { createHash } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { createRequire } = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const { GLUE_SCRIPTS, GLUE_LIBRARY_ZIP, PLANS_PREFIX } = require('./constants.cjs');

/** A fixed timestamp keeps the library zip byte-identical for identical sources. */
const ZIP_DATE = new Date('2000-01-01T00:00:00Z');

/** @param {string} dir @returns {string[]} files below dir, relative, sorted */
function walk(dir, base = dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.name !== '__pycache__' && !e.name.endsWith('.pyc'))
    .flatMap((e) =>
      e.isDirectory() ? walk(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))],
    )
    .sort();
}

/**
 * Stages the artifacts into `out` (wiped first). Returns the manifest.
 * @param {{ root: string, out: string, nodeBin?: string }} p
 */
async function stageArtifacts({ root, out, nodeBin = process.execPath }) {
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
    // yazl comes with osls (the deploy tool), so the project needs no zip dependency of its own.
    const yazl = createRequire(require.resolve('osls/package.json'))('yazl');
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
    const chunks = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    fs.writeFileSync(path.join(out, 'glue', GLUE_LIBRARY_ZIP), bytes);
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
function missingScripts(/** @type {{ files: { key: string }[] }} */ manifest) {
  const staged = new Set(manifest.files.map((f) => f.key));
  return Object.values(GLUE_SCRIPTS).filter((s) => !staged.has(`glue/${s}`));
}

class MedallionArtifactsPlugin {
  /** @param {any} serverless @param {any} options @param {{ log: any }} utils */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils?.log ?? console;
    this.hooks = {
      'after:package:createDeploymentArtifacts': () => this.stage(),
      'before:deploy:deploy': () => this.checkComplete(),
      'after:deploy:deploy': () => this.upload(),
      'before:remove:remove': () => this.emptyForRemoval(),
    };
  }

  get dir() {
    const root = this.serverless.serviceDir;
    return path.resolve(root, this.options.package ?? '.serverless', 'artifacts');
  }

  async stage() {
    const manifest = await stageArtifacts({ root: this.serverless.serviceDir, out: this.dir });
    const missing = missingScripts(manifest);
    if (missing.length > 0) this.log.warning(`Glue scripts not found in glue/: ${missing.join(', ')}`);
    this.log.notice(
      `Staged ${manifest.files.length} Glue artifact(s) in ${path.relative(process.cwd(), this.dir)}`,
    );
  }

  checkComplete() {
    const manifest = JSON.parse(fs.readFileSync(path.join(this.dir, 'manifest.json'), 'utf8'));
    const missing = missingScripts(manifest);
    if (missing.length > 0) {
      throw new this.serverless.classes.Error(
        `Cannot deploy Glue jobs without their scripts: ${missing.join(', ')} missing from glue/`,
      );
    }
  }

  /**
   * @param {{ cfn?: { send: (command: any) => Promise<any> }, s3?: { send: (command: any) => Promise<any> } }} clients
   *   injectable for tests; by default the deploy's own credentials and region
   */
  async upload(clients = {}) {
    const provider = this.serverless.getProvider('aws');
    const fromOsls = createRequire(require.resolve('osls/package.json'));
    const { DescribeStacksCommand } = fromOsls('@aws-sdk/client-cloudformation');
    const {
      S3Client,
      PutObjectCommand,
      ListObjectsV2Command,
      DeleteObjectsCommand,
    } = require('@aws-sdk/client-s3');
    const cfn = clients.cfn ?? (await provider.getCloudFormationClient());
    const stackName = provider.naming.getStackName();
    const stacks = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const bucket = stacks.Stacks?.[0]?.Outputs?.find(
      (o) => o.OutputKey === 'ArtifactsBucketName',
    )?.OutputValue;
    if (!bucket)
      throw new this.serverless.classes.Error(`Stack ${stackName} has no ArtifactsBucketName output`);

    const manifest = JSON.parse(fs.readFileSync(path.join(this.dir, 'manifest.json'), 'utf8'));
    const s3 = clients.s3 ?? new S3Client(await provider.getAwsSdkV3Config());
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
    /** @type {string[]} */
    const stale = [];
    for (const prefix of ['glue/', PLANS_PREFIX]) {
      let token;
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
        throw new this.serverless.classes.Error(
          `Could not delete stale artifacts: ${out.Errors.map((e) => `${e.Key}: ${e.Code}`).join(', ')}`,
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
   * @param {{ cfn?: { send: (command: any) => Promise<any> }, s3?: { send: (command: any) => Promise<any> } }} clients
   *   injectable for tests; by default the command's own credentials and region
   */
  async emptyForRemoval(clients = {}) {
    const provider = this.serverless.getProvider('aws');
    const fromOsls = createRequire(require.resolve('osls/package.json'));
    const { DescribeStacksCommand } = fromOsls('@aws-sdk/client-cloudformation');
    const { S3Client, ListObjectVersionsCommand, DeleteObjectsCommand } = require('@aws-sdk/client-s3');
    const cfn = clients.cfn ?? (await provider.getCloudFormationClient());
    const stackName = provider.naming.getStackName();
    let outputs;
    try {
      const stacks = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
      outputs = Object.fromEntries(
        (stacks.Stacks?.[0]?.Outputs ?? []).map((/** @type {any} */ o) => [o.OutputKey, o.OutputValue]),
      );
    } catch (error) {
      if (/does not exist/.test(String(/** @type {Error} */ (error).message))) return { emptied: 0 };
      throw error;
    }
    const bucket = outputs['ArtifactsBucketName'];
    let emptied = 0;
    if (bucket) {
      const s3 = clients.s3 ?? new S3Client(await provider.getAwsSdkV3Config());
      /** @type {{ KeyMarker?: string, VersionIdMarker?: string }} */
      let marker = {};
      for (;;) {
        const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, ...marker }));
        const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map(
          (/** @type {any} */ v) => ({ Key: v.Key, VersionId: v.VersionId }),
        );
        for (let i = 0; i < objects.length; i += 1000) {
          const out = await s3.send(
            new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000) } }),
          );
          if (out.Errors?.length) {
            throw new this.serverless.classes.Error(
              `Could not empty s3://${bucket}: ${out.Errors.map((/** @type {any} */ e) => `${e.Key} ${e.VersionId}: ${e.Code}`).join(', ')}`,
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
    ].filter(Boolean);
    if (kept.length)
      this.log.notice(
        `Kept (they hold data): ${kept.join(', ')}. Delete them by hand once their data may go.`,
      );
    return { emptied, kept };
  }
}

module.exports = MedallionArtifactsPlugin;
module.exports.stageArtifacts = stageArtifacts;
module.exports.missingScripts = missingScripts;
