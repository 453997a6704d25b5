/* global __filename */
'use strict';
// The entry serverless.yml reads (`${file(stack/build.cjs):<part>}`): serverless loads CommonJS, so
// this file resolves the serverless parameters and runs the typed generators (stack/build.ts and its
// modules) through tsx, which compiles them in memory: packaging stays offline, with no build step.
const { require: tsxRequire } = require('tsx/cjs/api');

/** @returns {typeof import('./build')} */
const generators = () => tsxRequire('./build.ts', __filename);

/** @type {Promise<unknown> | undefined} */
let memo;
module.exports = async (
  /** @type {{ resolveVariable: (v: string) => Promise<unknown> }} */ { resolveVariable },
) => {
  if (!memo) {
    const param = async (/** @type {string} */ name) => String(await resolveVariable(`param:${name}`));
    memo = generators().build({
      root: process.cwd(),
      service: String(await resolveVariable('self:service')),
      stage: String(await resolveVariable('sls:stage')),
      lakeBucketParam: await param('lakeBucketName'),
      tracing: (await param('tracing')) === 'true',
      glueWorkers: Number(await param('glueWorkers')),
      glueRunQuota: Number(await param('glueRunQuota')),
      glueRunBudget: Number(await param('glueRunBudget')),
      executionBudget: await param('executionBudget'),
      lakeReaders: await param('lakeFormationReaders'),
      lakeFullAccess: await param('lakeFormationFullAccess'),
      waitingRunAlarmMinutes: Number(await param('waitingRunAlarmMinutes')),
    });
  }
  return memo;
};

// `node stack/build.cjs '<params JSON>'` prints the generated parts: the stack tests check
// parameter variants (existing bucket, tracing) without packaging the stack again.
if (require.main === module) {
  const defaults = {
    root: process.cwd(),
    service: 'medallion-orchestrator',
    stage: 'dev',
    lakeBucketParam: '',
    tracing: false,
    glueWorkers: 2,
    glueRunQuota: 50,
    glueRunBudget: 30,
    executionBudget: '',
    lakeReaders: '',
    lakeFullAccess: '',
    waitingRunAlarmMinutes: 60,
  };
  generators()
    .build({ ...defaults, ...JSON.parse(process.argv[2] ?? '{}') })
    .then(
      (out) => process.stdout.write(`${JSON.stringify(out)}\n`),
      (error) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exitCode = 1;
      },
    );
}
