import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_REGISTRY_FILE } from '../../shared/config/deployed-registry';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  SERVERLESS_DIR,
  ensurePackaged,
  functionFolders,
  functionKey,
  lambdaLogicalId,
  loadTemplate,
  props,
  requiredEnvOf,
  type Template,
} from './packaged';

const { zipEntries } = require('../../scripts/zip-entries.cjs') as {
  zipEntries: (file: string) => Array<{ name: string; size: number }>;
};

let template: Template;
let unpacked: string;

beforeAll(() => {
  ensurePackaged();
  template = loadTemplate();
  unpacked = mkdtempSync(join(tmpdir(), 'medallion-bundles-'));
}, PACKAGE_TIMEOUT_MS);

afterAll(() => rmSync(unpacked, { recursive: true, force: true }));

/** Unzips a function's artifact as Lambda would (python3's zipfile: no unzip dependency). */
function unzip(folder: string, into = folder): string {
  const dir = join(unpacked, into);
  execFileSync('python3', ['-m', 'zipfile', '-e', join(SERVERLESS_DIR, `${functionKey(folder)}.zip`), dir]);
  return dir;
}

/** Runs an ESM snippet with the Lambda runtime's cwd (/var/task = the unzipped artifact). */
function runInBundle(dir: string, code: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', code], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', AWS_REGION: 'eu-west-1', ...env },
    encoding: 'utf8',
  });
}

const handlerFile = (folder: string) => `functions/${folder}/handler.mjs`;

describe('function artifacts', () => {
  test('every function folder is deployed as a function', () => {
    const deployed = Object.keys(template.Resources).filter(
      (id) => template.Resources[id]!.Type === 'AWS::Lambda::Function',
    );

    expect(deployed.sort()).toEqual(functionFolders().map(lambdaLogicalId).sort());
  });

  test.each(functionFolders())(
    '%s: nodejs22.x on arm64, env = its REQUIRED_ENV (+ source maps)',
    (folder) => {
      const fn = props(template, lambdaLogicalId(folder));

      expect(fn.Runtime).toBe('nodejs22.x');
      expect(fn.Architectures).toEqual(['arm64']);
      expect(Object.keys(fn.Environment.Variables).sort()).toEqual(
        [...requiredEnvOf(folder), 'NODE_OPTIONS'].sort(),
      );
      expect(fn.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    },
  );

  test.each(functionFolders())(
    '%s: one minified ESM bundle with its source map and the compiled registry, no node_modules',
    (folder) => {
      const entries = zipEntries(join(SERVERLESS_DIR, `${functionKey(folder)}.zip`)).map((e) => e.name);

      expect(entries).toEqual(
        expect.arrayContaining([handlerFile(folder), `${handlerFile(folder)}.map`, DEFAULT_REGISTRY_FILE]),
      );
      expect(entries.some((e) => e.startsWith('datasets/'))).toBe(false);
      expect(entries.filter((e) => e.endsWith('.mjs'))).toEqual([handlerFile(folder)]);
      expect(entries.some((e) => e.startsWith('node_modules/'))).toBe(false);
    },
  );

  test.each(functionFolders())(
    '%s: the bundle loads in node with nothing external; it exports REQUIRED_ENV',
    (folder) => {
      const dir = unzip(folder);
      const source = readFileSync(join(dir, handlerFile(folder)), 'utf8');
      // Minified: long lines (the only line breaks left are inside template literals).
      expect(source.length / source.split('\n').length).toBeGreaterThan(500);
      // Every @aws-sdk package we depend on is bundled: the only references left are optional
      // add-ons the SDK loads inside try/catch and that are not installed (e.g. signature-v4-crt).
      const unresolved = [
        ...source.matchAll(/(?:from|import\(|require\()\s*["'](@aws-sdk\/[^"']+)["']/g),
      ].map((m) => m[1]!);
      for (const name of new Set(unresolved)) {
        expect({ name, installed: existsSync(join(ROOT, 'node_modules', name)) }).toEqual({
          name,
          installed: false,
        });
        expect(name).not.toMatch(/^@aws-sdk\/client-/);
      }

      const env = Object.fromEntries(
        requiredEnvOf(folder).map((name) => [name, `dummy-${name.toLowerCase()}`]),
      );
      const out = runInBundle(
        dir,
        `const m = await import('./${handlerFile(folder)}');
       console.log(JSON.stringify({ handler: typeof m.handler, requiredEnv: [...m.REQUIRED_ENV].sort() }));`,
        env,
      );

      expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({
        handler: 'function',
        requiredEnv: requiredEnvOf(folder),
      });
    },
  );

  test.each(functionFolders())(
    '%s: no YAML parser and no full zod in the bundle (the registry is compiled at package time)',
    (folder) => {
      const dir = unzip(folder);
      const map = JSON.parse(readFileSync(join(dir, `${handlerFile(folder)}.map`), 'utf8')) as {
        sources: string[];
      };

      expect(map.sources.filter((s) => s.includes('node_modules/yaml/'))).toEqual([]);
      expect(map.sources.filter((s) => s.includes('node_modules/zod/v4/classic/'))).toEqual([]);
    },
  );

  test.each(functionFolders())(
    '%s: ships only what a Lambda runs: no local product, CLI, benchmark or test code',
    (folder) => {
      const dir = unzip(folder, `${folder}-sources`);
      const map = JSON.parse(readFileSync(join(dir, `${handlerFile(folder)}.map`), 'utf8')) as {
        sources: string[];
      };
      const ours = map.sources
        .map((s) => s.replace(/^(\.\.\/)+/, ''))
        .filter((s) => !s.includes('node_modules/'));

      expect(ours).toContain(`functions/${folder}/handler.ts`);
      expect(ours.filter((s) => /^(local|cli|bench|test|bin)\//.test(s))).toEqual([]);
    },
  );

  test('on-landing bundle handles an SQS batch in its Lambda layout (datasets read from the zip)', () => {
    const dir = unzip('on-landing', 'on-landing-run');
    const testEvent = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'lake' });
    const event = {
      Records: [
        { messageId: 'm-1', body: testEvent, eventSource: 'aws:sqs', attributes: {}, messageAttributes: {} },
      ],
    };

    const out = runInBundle(
      dir,
      `const { handler } = await import('./${handlerFile('on-landing')}');
       const res = await handler(${JSON.stringify(event)}, { awsRequestId: 'r-1', functionName: 'onLanding' });
       console.log('RESULT ' + JSON.stringify(res));`,
      {
        STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:medallion-test-pipeline',
        LEDGER_TABLE: 'medallion-test-ledger',
        EXECUTION_BUDGET: '10',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
    );

    const result = out.split('\n').find((l) => l.startsWith('RESULT '));
    expect(JSON.parse(result!.slice('RESULT '.length))).toEqual({ batchItemFailures: [] });
    expect(out).toContain('Acknowledged s3:TestEvent');
  });
});

describe('error names survive minification (Step Functions Retry/Catch match them)', () => {
  test('record-stage thrown error keeps its class name in the bundle', () => {
    const dir = unzip('record-stage', 'record-stage-run');
    const event = {
      stage: 'silver',
      dataset: 'orders',
      partitionPath: 'year=2024/month=01/day=15',
      partitionValues: ['2024', '01', '15'],
      runId: 'orders-2024-01-15-abc',
      manifestLocation: 's3://lake/_manifests/orders/silver/orders-2024-01-15-abc.json',
      jobRun: { Id: 'jr_1', JobName: 'medallion-silver', JobRunState: 'STOPPED' },
    };

    const out = runInBundle(
      dir,
      `const { handler } = await import('./${handlerFile('record-stage')}');
       try { await handler(${JSON.stringify(event)}, { awsRequestId: 'r-1', functionName: 'recordStage' }); console.log('RESULT none'); }
       catch (e) { console.log('RESULT ' + e.name + ' ' + e.constructor.name); }`,
      { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', METRICS_NAMESPACE: 'MedallionLake/test' },
    );

    expect(out.split('\n').find((l) => l.startsWith('RESULT '))).toBe(
      'RESULT JobRunNotSucceededError JobRunNotSucceededError',
    );
  });
});

describe('bundle sizes', () => {
  test('.serverless/bundle-sizes.json records every packaged zip with its real size', () => {
    const report = JSON.parse(readFileSync(join(ROOT, '.serverless', 'bundle-sizes.json'), 'utf8')) as {
      functions: Array<{ function: string; zipBytes: number; bundleBytes: number }>;
    };

    expect(report.functions.map((f) => f.function).sort()).toEqual(functionFolders().map(functionKey).sort());
    for (const row of report.functions) {
      expect(row.zipBytes).toBe(statSync(join(SERVERLESS_DIR, `${row.function}.zip`)).size);
      expect(row.bundleBytes).toBeGreaterThan(0);
    }
  });
});
