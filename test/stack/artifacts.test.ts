import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { loadRegistry } from '../../shared/config/registry';
import { MedallionArtifactsPlugin, type Manifest } from '../../stack/artifacts-plugin';
import { startMoto, type MotoServer } from '../helpers/moto';
import { ROOT } from './packaged';

/**
 * Atomic artifacts: the Glue scripts, their library and the compiled plans are content-addressed
 * (the key holds the sha256 of the bytes), the template points the jobs at those keys, and the
 * plugin puts them in the deployment bucket before the stack update, through osls' own S3 upload
 * (run here against moto's S3).
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
class ServerlessError extends Error {}

const STAGE = 'test';
const PREFIX = `serverless/medallion-orchestrator/${STAGE}/glue-artifacts/`;
const BUCKET = 'medallion-test-deployment-bucket';
/** Generating (tsx, DuckDB) and staging: allow a slow machine. */
const SLOW_MS = 120_000;

let moto: MotoServer;
let s3: S3Client;
let service: string;

/** A service folder: the real glue/ and datasets/ (what the artifacts are made of). */
function serviceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'medallion-artifacts-'));
  for (const input of ['glue', 'datasets']) symlinkSync(join(ROOT, input), join(dir, input));
  return dir;
}

function pluginIn(dir: string, stage = STAGE) {
  const logs: string[] = [];
  const provider = {
    getStage: () => stage,
    getDeploymentPrefix: () => 'serverless',
    getServerlessDeploymentBucketName: async () => BUCKET,
    getAwsSdkV3Config: async () => ({ ...moto.clientConfig, forcePathStyle: true }),
    isS3TransferAccelerationEnabled: () => false,
    naming: { getStackName: () => `medallion-orchestrator-${stage}` },
  };
  const serverless = {
    serviceDir: dir,
    service: { service: 'medallion-orchestrator', provider: {} },
    classes: { Error: ServerlessError },
    getProvider: () => provider,
  };
  const log = { notice: (m: string) => logs.push(m), warning: (m: string) => logs.push(`WARN ${m}`) };
  return { plugin: new MedallionArtifactsPlugin(serverless, {}, { log }), logs };
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** The generator's output (node stack/build.cjs) for a root. */
const generate = (root: string): Loose =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [join(ROOT, 'stack', 'build.cjs'), JSON.stringify({ root, stage: STAGE })],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    ),
  );

let manifest: Manifest;
let plugin: MedallionArtifactsPlugin;

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  service = serviceDir();
  ({ plugin } = pluginIn(service));
  manifest = await plugin.stage();
}, SLOW_MS);

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
  rmSync(service, { recursive: true, force: true });
});

const staged = (key: string) => readFileSync(join(service, '.serverless', 'glue-artifacts', key));

describe('staging (package time, offline)', () => {
  test('every job script, the library zip and a plan per dataset, each under a key holding its sha256', () => {
    const datasets = loadRegistry(join(ROOT, 'datasets')).datasets.map((d) => d.name);
    const names = manifest.files.map((f) => f.name).sort();
    expect(names).toEqual(
      [
        'glue/medallion_bronze.py',
        'glue/medallion_glue.zip',
        'glue/medallion_gold.py',
        'glue/medallion_silver.py',
        ...datasets.map((d) => `plans/${d}.json`),
      ].sort(),
    );
    const plansHash = sha256(
      manifest.files
        .filter((f) => f.name.startsWith('plans/'))
        .map((f) => `${f.name} ${f.sha256}\n`)
        .join(''),
    );
    for (const file of manifest.files) {
      const bytes = staged(file.key);
      expect({ name: file.name, sha256: sha256(bytes), bytes: bytes.length }).toEqual({
        name: file.name,
        sha256: file.sha256,
        bytes: file.bytes,
      });
      const [folder, base] = file.name.split('/');
      expect(file.key).toBe(
        folder === 'plans' ? `${PREFIX}plans/${plansHash}/${base}` : `${PREFIX}glue/${file.sha256}/${base}`,
      );
    }
  });

  test('a plan is byte for byte what `medallion compile` writes', () => {
    const out = mkdtempSync(join(tmpdir(), 'medallion-compile-'));
    try {
      execFileSync(process.execPath, [join(ROOT, 'bin', 'medallion.cjs'), 'compile', '--out', out], {
        cwd: ROOT,
        stdio: 'ignore',
      });
      for (const file of manifest.files.filter((f) => f.name.startsWith('plans/'))) {
        expect(staged(file.key).equals(readFileSync(join(out, file.name.slice('plans/'.length))))).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('the library zip holds every module of glue/medallion_glue, importable as the package', () => {
    const zip = join(
      service,
      '.serverless',
      'glue-artifacts',
      manifest.files.find((f) => f.name === 'glue/medallion_glue.zip')!.key,
    );
    // What --extra-py-files gives the job: the zip on sys.path, the package importable from it.
    const imported = execFileSync(
      'python3',
      [
        '-c',
        'import sys; sys.path.insert(0, sys.argv[1]); import medallion_glue.contract, medallion_glue.stages; print(medallion_glue.contract.__file__)',
        zip,
      ],
      { encoding: 'utf8' },
    );
    expect(imported.trim()).toBe(join(zip, 'medallion_glue', 'contract.py'));
  });

  test(
    'staging twice gives the same keys and bytes',
    async () => {
      const again = await pluginIn(service).plugin.stage();
      expect(again).toEqual(manifest);
    },
    SLOW_MS,
  );
});

describe('the template points at the content-addressed keys', () => {
  /** A scratch copy of what the generator reads, changed by `edit`. */
  function generateIn(edit: (root: string) => void): Loose {
    const root = mkdtempSync(join(tmpdir(), 'medallion-keys-'));
    try {
      for (const dir of ['datasets', 'functions', 'glue', 'state-machines']) {
        cpSync(join(ROOT, dir), join(root, dir), {
          recursive: true,
          filter: (src) => !src.includes('__pycache__'),
        });
      }
      edit(root);
      return generate(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  const keysOf = (out: Loose) => {
    const jobs = out.resources.Resources;
    const job = (id: string) => jobs[id].Properties;
    const key = (v: Loose) => String(v['Fn::Sub']).replace('s3://${ServerlessDeploymentBucket}/', '');
    return {
      bronze: key(job('GlueJobMedallionBronze').Command.ScriptLocation),
      silver: key(job('GlueJobMedallionSilver').Command.ScriptLocation),
      gold: key(job('GlueJobMedallionGold').Command.ScriptLocation),
      library: key(job('GlueJobMedallionSilver').DefaultArguments['--extra-py-files']),
      plans: out.env.PLANS_LOCATION['Fn::Join'][1][2],
    };
  };
  let base: ReturnType<typeof keysOf>;
  beforeAll(() => {
    base = keysOf(generateIn(() => {}));
  }, SLOW_MS);

  test('the keys are the staged ones', () => {
    const key = (name: string) => manifest.files.find((f) => f.name === name)!.key;
    expect(base).toEqual({
      bronze: key('glue/medallion_bronze.py'),
      silver: key('glue/medallion_silver.py'),
      gold: key('glue/medallion_gold.py'),
      library: key('glue/medallion_glue.zip'),
      plans: `/${key('plans/orders.json').replace(/orders\.json$/, '')}`,
    });
  });

  test(
    'a changed script changes its job key only',
    () => {
      const changed = keysOf(
        generateIn((root) => appendFileSync(join(root, 'glue', 'medallion_silver.py'), '\n# changed\n')),
      );
      expect(changed).toEqual({ ...base, silver: expect.stringContaining('/medallion_silver.py') });
      expect(changed.silver).not.toBe(base.silver);
    },
    SLOW_MS,
  );

  test(
    'a changed library module changes --extra-py-files only',
    () => {
      const changed = keysOf(
        generateIn((root) =>
          appendFileSync(join(root, 'glue', 'medallion_glue', 'errors.py'), '\n# changed\n'),
        ),
      );
      expect(changed).toEqual({ ...base, library: expect.stringContaining('/medallion_glue.zip') });
      expect(changed.library).not.toBe(base.library);
    },
    SLOW_MS,
  );

  test(
    'a changed dataset changes the plans location only',
    () => {
      const changed = keysOf(
        generateIn((root) => {
          const file = join(root, 'datasets', 'orders', 'dataset.yml');
          const text = readFileSync(file, 'utf8');
          rmSync(file);
          appendFileSync(file, text.replace(/description: (.*)/, 'description: $1 (changed)'));
        }),
      );
      expect(changed).toEqual({ ...base, plans: expect.stringContaining('/plans/') });
      expect(changed.plans).not.toBe(base.plans);
    },
    SLOW_MS,
  );
});

describe('deploy: the artifacts go up before the stack update (osls upload, moto S3)', () => {
  const listed = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map(
      (o) => o.Key!,
    );

  test("the plugin uploads between osls' upload of its own artifacts and the stack update", () => {
    const AwsDeploy = require('osls/lib/plugins/aws/deploy/index.js');
    const osls = new AwsDeploy(
      { getProvider: () => ({}), processedInput: { commands: [] }, service: { provider: {}, package: {} } },
      {},
    );
    const steps: string[] = osls.commands.aws.commands.deploy.commands.deploy.lifecycleEvents;
    const hooks = Object.keys(plugin.hooks);

    expect(hooks).toContain('after:aws:deploy:deploy:uploadArtifacts');
    expect(steps.indexOf('uploadArtifacts')).toBeLessThan(steps.indexOf('updateStack'));
    // Nothing is uploaded once CloudFormation is done.
    expect(hooks.filter((h) => /deploy:(deploy|updateStack)$/.test(h))).toEqual([]);
  });

  test(
    'every artifact lands under its key with its bytes; a second deploy uploads nothing',
    async () => {
      const first = await plugin.upload();
      const again = await plugin.upload();

      expect([...first.uploaded].sort()).toEqual(manifest.files.map((f) => f.key).sort());
      expect(again).toEqual({ bucket: BUCKET, uploaded: [], present: first.uploaded });
      for (const file of manifest.files) {
        const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: file.key }));
        expect(sha256(Buffer.from(await object.Body!.transformToByteArray()))).toBe(file.sha256);
      }
    },
    SLOW_MS,
  );

  test(
    'a failed upload fails the deploy before the stack update, naming the key',
    async () => {
      const dir = serviceDir();
      try {
        const { plugin: other } = pluginIn(dir, 'failing');
        await other.stage();
        let puts = 0;
        const put = async (params: { Key: string }) => {
          if (++puts === 2) throw new Error(`Access Denied: ${params.Key}`);
        };

        await expect(other.upload({ put })).rejects.toThrow(
          /Access Denied: serverless\/medallion-orchestrator\/failing\//,
        );
        expect(puts).toBe(2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    SLOW_MS,
  );

  test('a package made for another stage is refused', async () => {
    const { plugin: prod } = pluginIn(service, 'prod');
    await expect(prod.upload()).rejects.toThrow('package again');
  });

  test(
    "after osls' cleanup, only the artifacts no kept deployment names are deleted",
    async () => {
      const stageDir = `serverless/medallion-orchestrator/${STAGE}/`;
      const oldScript = `${PREFIX}glue/${'0'.repeat(64)}/medallion_silver.py`;
      const oldPlans = `${PREFIX}plans/${'1'.repeat(64)}/`;
      const orphan = `${PREFIX}glue/${'2'.repeat(64)}/medallion_silver.py`;
      const orphanPlan = `${PREFIX}plans/${'3'.repeat(64)}/orders.json`;
      // A deployment osls kept (for `osls rollback`): its template names an older script and plans.
      const kept = {
        Resources: {
          GlueJobMedallionSilver: {
            Properties: {
              Command: { ScriptLocation: { 'Fn::Sub': `s3://\${ServerlessDeploymentBucket}/${oldScript}` } },
            },
          },
        },
        PLANS_LOCATION: {
          'Fn::Join': ['', ['s3://', { Ref: 'ServerlessDeploymentBucket' }, `/${oldPlans}`]],
        },
      };
      const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
      await put(
        `${stageDir}1700000000000-2023-11-14T22:13:20.000Z/compiled-cloudformation-template.json`,
        JSON.stringify(kept),
      );
      for (const key of [oldScript, `${oldPlans}orders.json`, orphan, orphanPlan]) await put(key, 'old');
      await plugin.upload();

      const result = await plugin.collectGarbage();

      expect(result.deleted.sort()).toEqual([orphan, orphanPlan].sort());
      const left = await listed(PREFIX);
      expect(left).toEqual(
        expect.arrayContaining([oldScript, `${oldPlans}orders.json`, ...manifest.files.map((f) => f.key)]),
      );
      expect(left).not.toContain(orphan);
    },
    SLOW_MS,
  );
});
