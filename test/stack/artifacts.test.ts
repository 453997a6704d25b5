import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry } from '../../shared/config/registry';
import { ROOT } from './packaged';

import { MedallionArtifactsPlugin as ArtifactsPlugin } from '../../stack/artifacts-plugin';
const { zipEntries } = require('../../scripts/zip-entries.cjs') as {
  zipEntries: (file: string) => Array<{ name: string }>;
};

/** Staging compiles the plans through the real CLI (tsx): allow a slow machine. */
const STAGE_TIMEOUT_MS = 60_000;

class ServerlessError extends Error {}

interface Sent {
  name: string;
  input: Record<string, unknown>;
}

function pluginFor(packageDir: string, stackOutputs: Array<{ OutputKey: string; OutputValue: string }>) {
  const logs: string[] = [];
  const log = { notice: (m: string) => logs.push(m), warning: (m: string) => logs.push(`WARN ${m}`) };
  const serverless = {
    serviceDir: ROOT,
    classes: { Error: ServerlessError },
    getProvider: () => ({ naming: { getStackName: () => 'medallion-orchestrator-test' } }),
  };
  const plugin = new ArtifactsPlugin(serverless, { package: packageDir }, { log });
  const cfn = {
    sent: [] as Sent[],
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      this.sent.push({ name: command.constructor.name, input: command.input });
      return { Stacks: [{ Outputs: stackOutputs }] };
    },
  };
  return { plugin, logs, cfn };
}

/** A fake S3 that holds `existing` keys, lists them two per page, and records every command. */
function fakeS3(existing: string[], deleteErrors: Array<{ Key: string; Code: string }> = []) {
  const sent: Sent[] = [];
  return {
    sent,
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const { name } = command.constructor;
      sent.push({ name, input: command.input });
      if (name === 'ListObjectsV2Command') {
        const keys = existing.filter((k) => k.startsWith(String(command.input['Prefix'])));
        const start = Number(command.input['ContinuationToken'] ?? 0);
        const page = keys.slice(start, start + 2);
        const more = start + 2 < keys.length;
        return {
          Contents: page.map((Key) => ({ Key })),
          IsTruncated: more,
          NextContinuationToken: more ? String(start + 2) : undefined,
        };
      }
      if (name === 'DeleteObjectsCommand') return { Errors: deleteErrors };
      return {};
    },
  };
}

let packageDir: string;
let plugin: ReturnType<typeof pluginFor>['plugin'];
let stageLogs: string[];

beforeAll(async () => {
  packageDir = mkdtempSync(join(tmpdir(), 'medallion-artifacts-'));
  ({ plugin, logs: stageLogs } = pluginFor(packageDir, []));
  await plugin.stage();
}, STAGE_TIMEOUT_MS);

afterAll(() => rmSync(packageDir, { recursive: true, force: true }));

const manifest = () =>
  JSON.parse(readFileSync(join(packageDir, 'artifacts', 'manifest.json'), 'utf8')) as {
    files: Array<{ key: string; bytes: number; sha256: string }>;
  };

describe('artifacts plugin: staging (package time, offline)', () => {
  test('stages every job script, the library zip and a compiled plan per dataset, each with its sha256', () => {
    const keys = manifest().files.map((f) => f.key);
    const scripts = readdirSync(join(ROOT, 'glue')).filter((f) => f.endsWith('.py'));
    const datasets = loadRegistry(join(ROOT, 'datasets')).datasets.map((d) => d.name);

    expect(keys.sort()).toEqual(
      [
        ...scripts.map((s) => `glue/${s}`),
        'glue/medallion_glue.zip',
        ...datasets.map((d) => `plans/${d}.json`),
      ].sort(),
    );
    for (const file of manifest().files) {
      const bytes = readFileSync(join(packageDir, 'artifacts', file.key));
      expect({
        key: file.key,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        bytes: bytes.length,
      }).toEqual({
        key: file.key,
        sha256: file.sha256,
        bytes: file.bytes,
      });
    }
    expect(stageLogs.some((l) => l.startsWith('WARN'))).toBe(false);
  });

  test('the library zip holds every module of glue/medallion_glue, importable as the package', () => {
    const modules = readdirSync(join(ROOT, 'glue', 'medallion_glue')).filter((f) => f.endsWith('.py'));
    const entries = zipEntries(join(packageDir, 'artifacts', 'glue', 'medallion_glue.zip')).map(
      (e) => e.name,
    );

    expect(entries).toEqual(expect.arrayContaining(modules.map((m) => `medallion_glue/${m}`)));
    expect(entries.some((e) => e.includes('__pycache__') || e.endsWith('.pyc'))).toBe(false);
    // What --extra-py-files gives the job: the zip on sys.path, the package importable from it.
    const imported = execFileSync(
      'python3',
      [
        '-c',
        'import sys; sys.path.insert(0, sys.argv[1]); import medallion_glue.contract, medallion_glue.stages; print(medallion_glue.contract.__file__)',
        join(packageDir, 'artifacts', 'glue', 'medallion_glue.zip'),
      ],
      { encoding: 'utf8' },
    );
    expect(imported.trim()).toBe(
      join(packageDir, 'artifacts', 'glue', 'medallion_glue.zip', 'medallion_glue', 'contract.py'),
    );
  });

  test('a plan is what `medallion compile` writes: the dataset and its generated SQL', () => {
    const plan = JSON.parse(readFileSync(join(packageDir, 'artifacts', 'plans', 'orders.json'), 'utf8'));

    expect(plan.version).toBe(1);
    expect(plan.dataset.name).toBe('orders');
    expect(Object.keys(plan.sql.silver).sort()).toEqual(['clean', 'quarantine', 'validate']);
    expect(plan.sql.gold.select).toContain('FROM silver');
  });

  test(
    'staging twice gives byte-identical artifacts',
    async () => {
      const first = manifest();
      const again = pluginFor(packageDir, []).plugin;

      await again.stage();

      expect(manifest()).toEqual(first);
    },
    STAGE_TIMEOUT_MS,
  );

  test('deploy refuses to go on when a stage script is missing, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medallion-artifacts-missing-'));
    const { plugin: missing } = pluginFor(dir, []);
    mkdirSync(join(dir, 'artifacts'));
    writeFileSync(
      join(dir, 'artifacts', 'manifest.json'),
      JSON.stringify({ files: manifest().files.filter((f) => f.key !== 'glue/medallion_silver.py') }),
    );

    expect(() => missing.checkComplete()).toThrow(/medallion_silver\.py missing from glue\//);
    expect(() => plugin.checkComplete()).not.toThrow();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('artifacts plugin: upload (after the stack deploy)', () => {
  const outputs = [
    { OutputKey: 'ArtifactsBucketName', OutputValue: 'medallion-test-artifacts-123456789012-eu-west-1' },
  ];

  test('puts every staged file in the stack artifacts bucket and removes only stale objects', async () => {
    const { plugin: uploader, cfn } = pluginFor(packageDir, outputs);
    const s3 = fakeS3([
      'glue/medallion_bronze.py',
      'glue/old_job.py',
      'glue/medallion_glue.zip',
      'plans/orders.json',
      'plans/retired.json',
    ]);

    const result = await uploader.upload({ cfn, s3 });

    expect(cfn.sent).toEqual([
      { name: 'DescribeStacksCommand', input: { StackName: 'medallion-orchestrator-test' } },
    ]);
    const puts = s3.sent.filter((c) => c.name === 'PutObjectCommand');
    expect(puts.map((p) => p.input['Key']).sort()).toEqual(
      manifest()
        .files.map((f) => f.key)
        .sort(),
    );
    for (const put of puts) {
      expect(put.input['Bucket']).toBe(outputs[0]!.OutputValue);
      const file = manifest().files.find((f) => f.key === put.input['Key'])!;
      expect(
        createHash('sha256')
          .update(put.input['Body'] as Buffer)
          .digest('hex'),
      ).toBe(file.sha256);
    }
    const deletes = s3.sent.filter((c) => c.name === 'DeleteObjectsCommand');
    expect(deletes.map((d) => d.input['Delete'])).toEqual([
      { Objects: [{ Key: 'glue/old_job.py' }, { Key: 'plans/retired.json' }] },
    ]);
    expect(result.removed).toEqual(['glue/old_job.py', 'plans/retired.json']);
  });

  test('fails when the stack has no artifacts bucket output, before uploading anything', async () => {
    const { plugin: uploader, cfn } = pluginFor(packageDir, []);
    const s3 = fakeS3([]);

    await expect(uploader.upload({ cfn, s3 })).rejects.toThrow(
      'Stack medallion-orchestrator-test has no ArtifactsBucketName output',
    );
    expect(s3.sent).toEqual([]);
  });

  test('fails loudly when S3 could not delete a stale object', async () => {
    const { plugin: uploader, cfn } = pluginFor(packageDir, outputs);
    const s3 = fakeS3(['plans/retired.json'], [{ Key: 'plans/retired.json', Code: 'AccessDenied' }]);

    await expect(uploader.upload({ cfn, s3 })).rejects.toThrow('plans/retired.json: AccessDenied');
  });
});
