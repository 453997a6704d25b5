/* global __filename */
'use strict';
// Generates the dataset-driven and definition-driven parts of the stack for serverless.yml
// (`${file(stack/build.cjs):<part>}`): the state machine definition with its `${...}` placeholders
// bound to stack resources, the S3 → SQS notifications per landing prefix, the Glue catalog and jobs,
// the IAM roles, the per-dataset alarms and the dashboard. Everything is derived from datasets/,
// state-machines/ and the handlers, so adding a dataset or a task never means editing YAML.
const { readFileSync, existsSync, readdirSync, mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { loadRegistry } = require('./registry.cjs');
const { catalogResources, pascal } = require('./catalog.cjs');
const { FUNCTION_POLICIES } = require('./function-policies.cjs');
const { require: tsxRequire } = require('tsx/cjs/api');
const {
  ASL_FILE,
  GLUE_SCRIPTS,
  GLUE_LIBRARY_ZIP,
  GLUE_LOG_PREFIX,
  GLUE_VERSION,
  PLANS_PREFIX,
  STAGES,
} = require('./constants.cjs');

/** The function key (serverless.yml) of a functions/<folder>: camelCase of the folder. */
const functionKey = (/** @type {string} */ folder) =>
  folder.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
/** CloudFormation logical id serverless gives a function key. */
const lambdaLogicalId = (/** @type {string} */ key) =>
  `${key[0].toUpperCase()}${key.slice(1).replace(/-/g, 'Dash').replace(/_/g, 'Underscore')}LambdaFunction`;

// The `${Name}` grammar is shared with the local ASL runner: shared/domain/asl-placeholders.ts.
/** @returns {typeof import('../shared/domain/asl-placeholders')} */
const placeholderGrammar = () => tsxRequire('../shared/domain/asl-placeholders.ts', __filename);

/**
 * Replaces every `${Name}` in the ASL by what it stands for in this stack. A binding is a list of
 * parts (literal strings and Ref / Fn::GetAtt); a string made of one intrinsic becomes that
 * intrinsic, anything else an Fn::Join. serverless-step-functions then lifts each intrinsic into the
 * variables of the DefinitionString's Fn::Sub.
 * @param {unknown} node
 * @param {(name: string, where: string) => unknown[]} bind
 * @param {string} where
 * @returns {unknown}
 */
function substitute(node, bind, where) {
  return placeholderGrammar().bindPlaceholders(
    node,
    bind,
    (parts) => ({ 'Fn::Join': ['', parts] }),
    where,
    ASL_FILE,
  );
}

/** Every `${Name}` the ASL uses, in order of first appearance. */
function placeholdersOf(/** @type {string} */ text) {
  return placeholderGrammar().placeholdersOf(text);
}

/**
 * @param {{ root: string, stage: string, lakeBucketParam: string, tracing: boolean,
 *   glueWorkers: number, glueRunQuota: number, glueRunBudget: number }} p
 */
async function build(p) {
  const { root, stage } = p;
  // Names unique per account or region carry the stage (shared/domain/stage-names.ts).
  const stageNames = tsxRequire(join(root, 'shared', 'domain', 'stage-names.ts'), __filename);
  stageNames.assertStage(stage);
  // The metric names and dimensions the stage functions publish (shared/domain/metrics.ts).
  const metrics = tsxRequire(join(root, 'shared', 'domain', 'metrics.ts'), __filename);
  // One namespace per stage (shared/domain/stage-names.ts): record-stage gets it as METRICS_NAMESPACE.
  const METRICS_NAMESPACE = stageNames.stageMetricsNamespace(stage);
  const registry = loadRegistry(root);
  const datasets = registry.datasets;
  // The functions read this compiled registry (shared/config/deployed-registry.ts), shipped in each
  // zip by package.patterns: validated here, so no Lambda bundles zod or a YAML parser.
  const deployed = tsxRequire(join(root, 'shared', 'config', 'deployed-registry.ts'), __filename);
  const registryFile = join(root, deployed.DEFAULT_REGISTRY_FILE);
  mkdirSync(join(registryFile, '..'), { recursive: true });
  // The Lambdas plan and register with the stage's names: Glue jobs `<job>-<stage>`, databases `<db>_<stage>`.
  writeFileSync(registryFile, deployed.compileRegistry(stageNames.registryForStage(registry, stage)));
  const jobName = (/** @type {string} */ declared) => stageNames.stageJobName(declared, stage);
  const databaseName = (/** @type {string} */ declared) => stageNames.stageDatabaseName(declared, stage);
  const prefix = `medallion-${stage}`;
  const existingLake = p.lakeBucketParam.trim();

  const lakeBucket = existingLake ? existingLake : { Ref: 'LakeBucket' };
  const lakeBucketArn = existingLake
    ? { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${existingLake}` }
    : { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${prefix}-lake-\${AWS::AccountId}-\${AWS::Region}` };
  const arn = (/** @type {string} */ s) => ({ 'Fn::Sub': s });
  // Built from the state machine's fixed name: a Ref from a function's role would be circular
  // (state machine → function → role → state machine).
  const stateMachineArn = arn(
    `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${prefix}-pipeline`,
  );
  const executionsArn = arn(
    `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${prefix}-pipeline:*`,
  );
  const lakeObjects = (/** @type {string} */ keyPattern) => ({
    'Fn::Join': ['', [lakeBucketArn, `/${keyPattern}`]],
  });

  // ---- Functions present in the tree (each must be declared in serverless.yml) -----------------
  const functionFolders = readdirSync(join(root, 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'functions', d.name, 'handler.ts')))
    .map((d) => d.name)
    .sort();

  // ---- Glue jobs: one per declared job name, each running its stage's generic script -----------
  /** @type {Map<string, {stage: string, timeout: number, executionClass: string, datasets: string[]}>} */
  const jobs = new Map();
  for (const d of datasets) {
    for (const stageName of STAGES) {
      const s = d.stages[stageName];
      const job = jobs.get(s.glueJob);
      if (job && job.stage !== stageName) {
        throw new Error(
          `datasets/${d.folder}/dataset.yml: stages.${stageName}.glueJob: "${s.glueJob}" is already the ${job.stage} job of ${job.datasets.join(', ')}; a Glue job runs one stage's script`,
        );
      }
      if (job && job.executionClass !== s.executionClass) {
        throw new Error(
          `datasets/${d.folder}/dataset.yml: stages.${stageName}.executionClass: "${s.executionClass}" but Glue job "${s.glueJob}" is ${job.executionClass} for ${job.datasets.join(', ')}; give the stage a Glue job of its own`,
        );
      }
      if (job) {
        job.timeout = Math.max(job.timeout, s.timeoutMinutes);
        job.datasets.push(d.name);
      } else
        jobs.set(s.glueJob, {
          stage: stageName,
          timeout: s.timeoutMinutes,
          executionClass: s.executionClass,
          datasets: [d.name],
        });
    }
  }
  const clash = (/** @type {string} */ what, /** @type {Array<[string, string]>} */ pairs) => {
    /** @type {Map<string, string>} */
    const seen = new Map();
    for (const [key, owner] of pairs) {
      const other = seen.get(key);
      if (other !== undefined && other !== owner)
        throw new Error(`${what} "${key}" is declared by both ${other} and ${owner}`);
      seen.set(key, owner);
    }
  };
  clash(
    'Glue table',
    datasets.flatMap((d) =>
      Object.entries(d.catalog.tables).map(([zone, table]) => [
        `${d.catalog.database}.${table}`,
        `datasets/${d.folder}/dataset.yml (catalog.tables.${zone})`,
      ]),
    ),
  );
  clash(
    'Glue job resource',
    [...jobs.keys()].map((name) => [`GlueJob${pascal(name)}`, name]),
  );
  const jobArn = (/** @type {string} */ name) =>
    arn(`arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:job/${name}`);
  const catalogArn = arn('arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog');
  const databaseArns = [...new Set(datasets.map((d) => databaseName(d.catalog.database)))]
    .sort()
    .map((db) => arn(`arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:database/${db}`));
  const tableArns = datasets.flatMap((d) =>
    ['bronze', 'silver', 'gold', 'quarantine'].map((zone) =>
      arn(
        `arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:table/${databaseName(d.catalog.database)}/${d.catalog.tables[zone]}`,
      ),
    ),
  );

  // ---- State machine definition ------------------------------------------------------------------
  const aslPath = join(root, ASL_FILE);
  if (!existsSync(aslPath)) throw new Error(`${ASL_FILE} not found: the stack deploys that state machine`);
  const aslText = readFileSync(aslPath, 'utf8');
  const asl = JSON.parse(aslText);
  /** @type {Record<string, unknown[]>} */
  const bindings = {
    LakeBucket: [lakeBucket],
    ArtifactsBucket: [{ Ref: 'ArtifactsBucket' }],
    ArtifactsLocation: ['s3://', { Ref: 'ArtifactsBucket' }, '/'],
    PlansLocation: ['s3://', { Ref: 'ArtifactsBucket' }, `/${PLANS_PREFIX}`],
    AlertTopicArn: [{ Ref: 'AlertTopic' }],
    LedgerTable: [{ Ref: 'LedgerTable' }],
    Stage: [stage],
  };
  for (const folder of functionFolders) {
    bindings[placeholderGrammar().functionPlaceholder(folder)] = [
      { 'Fn::GetAtt': [lambdaLogicalId(functionKey(folder)), 'Arn'] },
    ];
  }
  const used = placeholdersOf(aslText);
  const bind = (/** @type {string} */ name, /** @type {string} */ where) => {
    if (!(name in bindings)) {
      throw new Error(
        `${ASL_FILE}: ${where}: unknown placeholder \${${name}} (the stack binds: ${Object.keys(bindings).join(', ')})`,
      );
    }
    return bindings[name];
  };
  // Glue Task timeouts and the state machine's TimeoutSeconds from the datasets' stage timeouts, as
  // the local runner bounds it too (shared/domain/horizon.ts).
  const horizon = tsxRequire(join(root, 'shared', 'domain', 'horizon.ts'), __filename);
  const definition = horizon.boundDefinition(substitute(asl, bind, '$'), datasets);
  const invokedFunctions = functionFolders.filter((f) =>
    used.includes(placeholderGrammar().functionPlaceholder(f)),
  );
  const aslJobNames = [...new Set([...aslText.matchAll(/"JobName"\s*:\s*"([^"$]+)"/g)].map((m) => m[1]))];
  if (aslJobNames.length > 0) {
    throw new Error(
      `${ASL_FILE}: JobName "${aslJobNames[0]}" is written out; take it from the run plan ("JobName.$"): deployed job names carry the stage`,
    );
  }

  /** @type {Record<string, any>} */
  const resources = {};
  /** @type {Record<string, any>} */
  const outputs = {};

  // ---- Lake bucket and its notifications -------------------------------------------------------
  // S3 refuses overlapping notification prefixes: a prefix nested in another dataset's is already
  // covered by it (on-landing routes each key to the longest matching prefix).
  const allPrefixes = datasets.map((d) => d.landing.prefix);
  const notificationPrefixes = [...new Set(allPrefixes)]
    .filter((prefix) => !allPrefixes.some((other) => other !== prefix && prefix.startsWith(other)))
    .sort();
  const queueConfigurations = notificationPrefixes.map((prefix) => ({
    Event: 's3:ObjectCreated:*',
    Queue: { 'Fn::GetAtt': ['LandingQueue', 'Arn'] },
    Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: prefix }] } },
  }));
  if (!existingLake) {
    resources['LakeBucket'] = {
      Type: 'AWS::S3::Bucket',
      // S3 checks it may send to the queue when the notification is created.
      DependsOn: ['LandingQueuePolicy'],
      // Kept by `osls remove` (it holds the lake); deleted if the stack's first create rolls back.
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketName: arn(`${prefix}-lake-\${AWS::AccountId}-\${AWS::Region}`),
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        // Versions make each landed object version a distinct ledger entry.
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: [
            // A re-run replaces its partition's files: the replaced versions go after 30 days.
            {
              Id: 'old-versions',
              Status: 'Enabled',
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              ExpiredObjectDeleteMarker: true,
            },
            {
              Id: 'incomplete-uploads',
              Status: 'Enabled',
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            },
          ],
        },
        NotificationConfiguration: { QueueConfigurations: queueConfigurations },
      },
    };
  }
  const tlsOnly = (/** @type {string} */ bucketLogicalId) => ({
    Type: 'AWS::S3::BucketPolicy',
    Properties: {
      Bucket: { Ref: bucketLogicalId },
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            // A deny of every S3 action without TLS (the same guard serverless puts on its bucket).
            Action: 's3:*',
            Resource: [
              { 'Fn::GetAtt': [bucketLogicalId, 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketLogicalId, 'Arn'] }, '/*']] },
            ],
            Condition: { Bool: { 'aws:SecureTransport': false } },
          },
        ],
      },
    },
  });
  if (!existingLake) resources['LakeBucketPolicy'] = tlsOnly('LakeBucket');
  resources['ArtifactsBucketPolicy'] = tlsOnly('ArtifactsBucket');
  outputs['LakeBucketName'] = { Value: lakeBucket };
  outputs['LandingQueueArn'] = { Value: { 'Fn::GetAtt': ['LandingQueue', 'Arn'] } };
  if (existingLake) {
    // CloudFormation cannot add notifications to a bucket it does not own: docs/deploy.md.
    outputs['LandingNotificationConfiguration'] = {
      Description: 'Apply to the existing lake bucket: aws s3api put-bucket-notification-configuration',
      Value: {
        'Fn::Sub': [
          JSON.stringify({
            QueueConfigurations: notificationPrefixes.map((prefix) => ({
              QueueArn: '${QueueArn}',
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } },
            })),
          }),
          { QueueArn: { 'Fn::GetAtt': ['LandingQueue', 'Arn'] } },
        ],
      },
    };
  }
  resources['LandingQueuePolicy'] = {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [{ Ref: 'LandingQueue' }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'S3LandingNotifications',
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': ['LandingQueue', 'Arn'] },
            Condition: {
              ArnLike: { 'aws:SourceArn': lakeBucketArn },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
          },
        ],
      },
    },
  };

  // ---- Glue catalog and jobs -----------------------------------------------------------------
  Object.assign(resources, await catalogResources({ root, datasets, lakeBucket, databaseName }));
  const glueLib = existsSync(join(root, 'glue', 'medallion_glue'));
  // Back-pressure: the jobs' MaxConcurrentRuns add up to at most the run budget, below the quota.
  const runsPerJob = Math.floor(p.glueRunBudget / Math.max(1, jobs.size));
  if (!(p.glueRunBudget < p.glueRunQuota) || runsPerJob < 1) {
    throw new Error(
      `glueRunBudget ${p.glueRunBudget}: must be below glueRunQuota ${p.glueRunQuota} (the account's concurrent Glue job runs) and at least the number of Glue jobs (${jobs.size})`,
    );
  }
  for (const [name, job] of [...jobs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    resources[`GlueJob${pascal(name)}`] = {
      Type: 'AWS::Glue::Job',
      Properties: {
        Name: jobName(name),
        Description: `medallion ${job.stage} stage (datasets: ${job.datasets.join(', ')})`,
        Role: { 'Fn::GetAtt': ['GlueJobRole', 'Arn'] },
        // Glue 5.1: Spark 3.5.6, Python 3.11, Java 17 (pyspark 3.5.6 in python/requirements.lock).
        GlueVersion: GLUE_VERSION,
        ExecutionClass: job.executionClass === 'flex' ? 'FLEX' : 'STANDARD',
        SecurityConfiguration: { Ref: 'GlueSecurityConfiguration' },
        WorkerType: 'G.1X',
        NumberOfWorkers: p.glueWorkers,
        Timeout: job.timeout,
        MaxRetries: 0,
        // One run per (dataset, partition) and stage: as many partitions as this may be in flight.
        ExecutionProperty: { MaxConcurrentRuns: runsPerJob },
        // A run over the account's or the job's limit waits in Glue's queue (WAITING), not fails.
        JobRunQueuingEnabled: true,
        Command: {
          Name: 'glueetl',
          PythonVersion: '3',
          ScriptLocation: { 'Fn::Sub': `s3://\${ArtifactsBucket}/glue/${GLUE_SCRIPTS[job.stage]}` },
        },
        DefaultArguments: {
          '--job-language': 'python',
          // Each run reads exactly its own partition (--source_location): nothing for a bookmark to track.
          '--job-bookmark-option': 'job-bookmark-disable',
          '--enable-metrics': 'true',
          '--enable-observability-metrics': 'true',
          '--enable-job-insights': 'true',
          // Glue 5.x logs in real time to <prefix>/output and <prefix>/error: the stack's log groups.
          '--custom-logGroup-prefix': GLUE_LOG_PREFIX(stage),
          '--TempDir': { 'Fn::Sub': 's3://${ArtifactsBucket}/tmp/' },
          ...(glueLib
            ? { '--extra-py-files': { 'Fn::Sub': `s3://\${ArtifactsBucket}/glue/${GLUE_LIBRARY_ZIP}` } }
            : {}),
        },
      },
    };
  }

  // ---- IAM: the state machine --------------------------------------------------------------
  const smStatements = [];
  if (invokedFunctions.length > 0) {
    smStatements.push({
      Sid: 'InvokeStageFunctions',
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      Resource: invokedFunctions.flatMap((f) => {
        const fnArn = { 'Fn::GetAtt': [lambdaLogicalId(functionKey(f)), 'Arn'] };
        return [fnArn, { 'Fn::Join': ['', [fnArn, ':*']] }];
      }),
    });
  }
  if (jobs.size > 0) {
    smStatements.push({
      Sid: 'RunGlueJobs',
      Effect: 'Allow',
      // startJobRun.sync polls GetJobRun and stops the run when the execution is stopped.
      Action: ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
      Resource: [...jobs.keys()].sort().map((name) => jobArn(`\${GlueJob${pascal(name)}}`)),
    });
  }
  if (/"arn:aws:states:::sns:publish"/.test(aslText)) {
    smStatements.push({
      Sid: 'PublishAlerts',
      Effect: 'Allow',
      Action: ['sns:Publish'],
      Resource: { Ref: 'AlertTopic' },
    });
    smStatements.push({
      Sid: 'EncryptAlerts',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: { 'Fn::GetAtt': ['AlertKey', 'Arn'] },
    });
  }
  smStatements.push({
    Sid: 'LogDelivery',
    Effect: 'Allow',
    // Vended log delivery: these actions support no resource-level permissions (docs/deploy.md).
    Action: [
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ],
    Resource: '*',
  });
  if (p.tracing) {
    smStatements.push({
      Sid: 'XRayTracing',
      Effect: 'Allow',
      // X-Ray accepts no resource-level permissions for these (docs/deploy.md).
      Action: [
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
      ],
      Resource: '*',
    });
  }
  resources['StateMachineRole'] = {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: 'medallion pipeline state machine: invoke its stage functions, run its Glue jobs',
      AssumeRolePolicyDocument: assume('states.amazonaws.com', {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      }),
      Policies: [
        { PolicyName: 'pipeline', PolicyDocument: { Version: '2012-10-17', Statement: smStatements } },
      ],
    },
  };

  // ---- IAM: the Glue jobs -------------------------------------------------------------------
  const zonePrefixes = datasets.flatMap((d) =>
    ['bronze', 'silver', 'gold', 'quarantine'].map((z) => `${z}/${d.name}/`),
  );
  const manifestPrefixes = datasets.map((d) => `_manifests/${d.name}/`);
  resources['GlueJobRole'] = {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: 'medallion Glue jobs: read landing, write the zones and manifests of declared datasets',
      AssumeRolePolicyDocument: assume('glue.amazonaws.com'),
      Policies: [
        {
          PolicyName: 'jobs',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'ReadLakeInputs',
                Effect: 'Allow',
                Action: ['s3:GetObject'],
                Resource: [
                  ...datasets.map((d) => lakeObjects(`${d.landing.prefix}*`)),
                  ...[...zonePrefixes, ...manifestPrefixes].map((z) => lakeObjects(`${z}*`)),
                ],
              },
              {
                Sid: 'WriteLakeZones',
                Effect: 'Allow',
                // Dynamic partition overwrite deletes and rewrites the partition's files.
                Action: ['s3:PutObject', 's3:DeleteObject'],
                Resource: [...zonePrefixes, ...manifestPrefixes].map((z) => lakeObjects(`${z}*`)),
              },
              {
                Sid: 'ListLake',
                Effect: 'Allow',
                Action: ['s3:ListBucket', 's3:GetBucketLocation'],
                Resource: lakeBucketArn,
              },
              {
                Sid: 'ReadArtifacts',
                Effect: 'Allow',
                Action: ['s3:GetObject'],
                Resource: [
                  { 'Fn::Sub': '${ArtifactsBucket.Arn}/glue/*' },
                  { 'Fn::Sub': `\${ArtifactsBucket.Arn}/${PLANS_PREFIX}*` },
                ],
              },
              {
                Sid: 'GlueTempDir',
                Effect: 'Allow',
                Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
                Resource: { 'Fn::Sub': '${ArtifactsBucket.Arn}/tmp/*' },
              },
              {
                Sid: 'ListArtifacts',
                Effect: 'Allow',
                Action: ['s3:ListBucket', 's3:GetBucketLocation'],
                Resource: { 'Fn::GetAtt': ['ArtifactsBucket', 'Arn'] },
              },
              {
                Sid: 'JobLogs',
                Effect: 'Allow',
                Action: [
                  'logs:CreateLogGroup',
                  'logs:CreateLogStream',
                  'logs:PutLogEvents',
                  'logs:AssociateKmsKey',
                ],
                Resource: arn(
                  `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${GLUE_LOG_PREFIX(stage)}/*`,
                ),
              },
              {
                Sid: 'JobMetrics',
                Effect: 'Allow',
                // PutMetricData has no resource-level permissions; the namespace condition narrows it.
                Action: ['cloudwatch:PutMetricData'],
                Resource: '*',
                Condition: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
              },
            ],
          },
        },
      ],
    },
  };

  // ---- IAM: one role per function; errors and throttles alarms per function ----------------------
  for (const folder of functionFolders) {
    const key = functionKey(folder);
    const policy = FUNCTION_POLICIES[folder];
    if (!policy) {
      throw new Error(
        `functions/${folder}: no IAM policy in stack/function-policies.cjs (add what it calls)`,
      );
    }
    const logGroup = `${key[0].toUpperCase()}${key.slice(1)}LogGroup`;
    const statements = [
      {
        Sid: 'Logs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
      },
      ...policy({
        lakeBucketArn,
        lakeObjects,
        catalogArn,
        databaseArns,
        tableArns,
        datasets,
        metricsNamespace: METRICS_NAMESPACE,
        stateMachineArn,
        executionsArn,
      }),
    ];
    if (p.tracing) {
      statements.push({
        Sid: 'XRay',
        Effect: 'Allow',
        // X-Ray accepts no resource-level permissions for these (docs/deploy.md).
        Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        Resource: '*',
      });
    }
    resources[`${pascal(folder)}Role`] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `medallion ${folder} function`,
        AssumeRolePolicyDocument: assume('lambda.amazonaws.com'),
        Policies: [{ PolicyName: folder, PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
      },
    };
  }

  // ---- Alarms and dashboard ----------------------------------------------------------------------
  /** @type {typeof import('./function-alarms')} */
  const { functionAlarms } = tsxRequire('./function-alarms.ts', __filename);
  Object.assign(
    resources,
    functionAlarms({
      folders: functionFolders,
      asl,
      prefix,
      namespace: METRICS_NAMESPACE,
      pascal,
      lambdaLogicalId: (folder) => lambdaLogicalId(functionKey(folder)),
      logGroupLogicalId: (folder) => `${pascal(folder)}LogGroup`,
    }),
  );
  Object.assign(resources, quarantineAlarms(datasets, prefix, metrics, METRICS_NAMESPACE));
  resources['Dashboard'] = dashboard({
    datasets,
    prefix,
    functionKeys: functionFolders.map(functionKey),
    metrics,
    namespace: METRICS_NAMESPACE,
  });

  return {
    definition,
    /** Values of function environment variables that depend on parameters. */
    env: {
      LAKE_BUCKET: lakeBucket,
      METRICS_NAMESPACE,
      PLANS_LOCATION: { 'Fn::Join': ['', ['s3://', { Ref: 'ArtifactsBucket' }, `/${PLANS_PREFIX}`]] },
    },
    resources: {
      Resources: resources,
      Outputs: outputs,
      // The function log groups serverless creates, encrypted with the stack's logs key.
      extensions: {
        ...Object.fromEntries(
          functionFolders.map((folder) => [
            `${pascal(folder)}LogGroup`,
            { Properties: { KmsKeyId: { 'Fn::GetAtt': ['LogsKey', 'Arn'] } } },
          ]),
        ),
        // serverless' deployment bucket is versioned (`osls remove` empties every version): old
        // versions and unfinished uploads expire.
        ServerlessDeploymentBucket: {
          Properties: {
            LifecycleConfiguration: {
              Rules: [
                {
                  Id: 'old-versions',
                  Status: 'Enabled',
                  NoncurrentVersionExpiration: { NoncurrentDays: 30 },
                },
                {
                  Id: 'incomplete-uploads',
                  Status: 'Enabled',
                  AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
                },
              ],
            },
          },
        },
        // serverless-step-functions' execution alarms (serverless.yml), with their runbooks.
        ...Object.fromEntries(
          Object.entries(EXECUTION_ALARM_RUNBOOKS).map(([metric, text]) => [
            `PipelineStateMachine${metric}Alarm`,
            { Properties: { AlarmDescription: text } },
          ]),
        ),
      },
    },
    /** What the tests and the artifacts plugin need to know about the generated parts. */
    meta: {
      functionFolders,
      invokedFunctions,
      placeholders: used,
      jobs: Object.fromEntries(jobs),
      datasets: datasets.map((d) => d.name),
      catalog: { catalogArn, databaseArns, tableArns },
    },
  };
}

/** What to do when an execution alarm of the state machine fires (see serverless.yml `alarms`). */
const EXECUTION_ALARM_RUNBOOKS = {
  ExecutionsTimedOut:
    'A pipeline execution ran past the state machine timeout and ended without its failure path: no other page was sent, its lease is released by finish-run. Runbook: open the execution (Step Functions console, status Timed out) to see the state it was in, usually a Glue job; fix the cause, then replay the partition (npx medallion replay).',
  ExecutionsAborted:
    'A pipeline execution was stopped from outside (StopExecution): no other page was sent, its lease is released by finish-run. Runbook: check who stopped it (CloudTrail, StopExecution); replay the partition if it still needs its run (npx medallion replay).',
  ExecutionThrottled:
    'Step Functions throttled state transitions of the pipeline: runs go slower, none fails because of it. Runbook: if it lasts, lower landingMaxConcurrency and glueRunBudget, or ask for a higher Step Functions state transition quota.',
};

/** @param {string} service @param {Record<string, unknown>=} condition */
function assume(service, condition) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'sts:AssumeRole',
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  };
}

/**
 * Quarantine ratio per dataset: quarantined / records in at the silver stage over one hour, as
 * metric math on the counts the stage functions publish (shared/domain/metrics.ts); alarms above
 * the dataset's declared quarantine.maxRatio. (The per-run spike judgement is the pipeline's own.)
 * @param {readonly any[]} datasets @param {string} prefix @param {any} metrics @param {string} namespace
 */
function quarantineAlarms(datasets, prefix, metrics, namespace) {
  const { METRIC_NAMES: names, DIMENSIONS: dim } = metrics;
  /** @type {Record<string, any>} */
  const out = {};
  for (const d of datasets) {
    const dims = [
      { Name: dim.dataset, Value: d.name },
      { Name: dim.stage, Value: 'silver' },
    ];
    const metric = (/** @type {string} */ id, /** @type {string} */ name) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: { Namespace: namespace, MetricName: name, Dimensions: dims },
        Period: 3600,
        Stat: 'Sum',
      },
    });
    out[`QuarantineRatioAlarm${pascal(d.name)}`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: `${prefix}-quarantine-ratio-${d.name}`,
        AlarmDescription:
          `${d.name}: more than ${d.quarantine.maxRatio * 100}% of silver input rows quarantined in an hour (quarantine.maxRatio). ` +
          `Runbook: see why (npx medallion query "SELECT _quarantine_reasons, count(*) FROM ${d.catalog.tables.quarantine} GROUP BY ALL", or Athena on the stage's database); ` +
          `fix the producer or the dataset's rules, then replay the partitions from silver.`,
        Metrics: [
          metric('quarantined', names.recordsQuarantined),
          metric('records', names.recordsIn),
          {
            Id: 'ratio',
            Label: names.quarantineRatio,
            Expression: 'IF(records > 0, quarantined / records, 0)',
            ReturnData: true,
          },
        ],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: d.quarantine.maxRatio,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlertTopic' }],
        OKActions: [{ Ref: 'AlertTopic' }],
      },
    };
  }
  return out;
}

/** @param {{ datasets: readonly any[], prefix: string, functionKeys: string[], metrics: any, namespace: string }} p */
function dashboard({ datasets, prefix, functionKeys, metrics, namespace: ns }) {
  const { METRIC_NAMES: names, DIMENSIONS: dim } = metrics;
  const region = '${AWS::Region}';
  const sm = '${PipelineStateMachine}';
  /** @type {any[]} */
  const widgets = [];
  const add = (/** @type {string} */ title, /** @type {any[]} */ series) => {
    widgets.push({
      type: 'metric',
      x: (widgets.length % 2) * 12,
      y: Math.floor(widgets.length / 2) * 6,
      width: 12,
      height: 6,
      properties: { title, region, metrics: series, period: 300, view: 'timeSeries', stacked: false },
    });
  };
  const m = (
    /** @type {string} */ name,
    /** @type {string} */ dataset,
    /** @type {string} */ stage,
    /** @type {object} */ opts,
  ) => [ns, name, dim.dataset, dataset, dim.stage, stage, opts];
  add('Pipeline runs', [
    ['AWS/States', 'ExecutionsStarted', 'StateMachineArn', sm, { stat: 'Sum' }],
    ['.', 'ExecutionsSucceeded', '.', '.', { stat: 'Sum' }],
    ['.', 'ExecutionsFailed', '.', '.', { stat: 'Sum' }],
    ['.', 'ExecutionsTimedOut', '.', '.', { stat: 'Sum' }],
    ['.', 'ExecutionsAborted', '.', '.', { stat: 'Sum' }],
  ]);
  add('Pipeline run duration (ms)', [
    ['AWS/States', 'ExecutionTime', 'StateMachineArn', sm, { stat: 'p50' }],
    ['...', { stat: 'p99' }],
  ]);
  for (const d of datasets) {
    add(
      `${d.name}: stage duration (s)`,
      STAGES.map((s) => m(names.duration, d.name, s, { stat: 'Average', label: s })),
    );
    add(`${d.name}: records`, [
      m(names.recordsIn, d.name, 'bronze', { stat: 'Sum', label: 'landed rows (bronze in)' }),
      ...STAGES.map((s) => m(names.recordsOut, d.name, s, { stat: 'Sum', label: `${s} out` })),
    ]);
    add(`${d.name}: quarantine`, [
      m(names.recordsQuarantined, d.name, 'silver', { stat: 'Sum', id: 'q', label: 'quarantined rows' }),
      m(names.recordsIn, d.name, 'silver', { stat: 'Sum', id: 'n', visible: false }),
      [{ expression: 'IF(n > 0, q / n, 0)', label: names.quarantineRatio, id: 'ratio', yAxis: 'right' }],
    ]);
  }
  add('Landing queue', [
    [
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      'QueueName',
      '${LandingQueue.QueueName}',
      { stat: 'Maximum' },
    ],
    ['.', 'ApproximateAgeOfOldestMessage', '.', '.', { stat: 'Maximum', yAxis: 'right' }],
    [
      '.',
      'ApproximateNumberOfMessagesVisible',
      '.',
      '${LandingDeadLetterQueue.QueueName}',
      { stat: 'Maximum', label: 'DLQ' },
    ],
  ]);
  add(
    'Functions: errors and throttles',
    functionKeys.flatMap((k) => [
      ['AWS/Lambda', 'Errors', 'FunctionName', `\${${lambdaLogicalId(k)}}`, { stat: 'Sum' }],
      ['.', 'Throttles', '.', '.', { stat: 'Sum' }],
    ]),
  );
  return {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: {
      DashboardName: `${prefix}-pipeline`,
      DashboardBody: { 'Fn::Sub': JSON.stringify({ widgets }) },
    },
  };
}

/** Resolves the parameters the generators need through serverless' own variable resolution. */
let memo;
module.exports = async ({ resolveVariable }) => {
  if (!memo) {
    const stage = await resolveVariable('sls:stage');
    const param = async (/** @type {string} */ name) => String(await resolveVariable(`param:${name}`));
    memo = build({
      root: process.cwd(),
      stage,
      lakeBucketParam: await param('lakeBucketName'),
      tracing: (await param('tracing')) === 'true',
      glueWorkers: Number(await param('glueWorkers')),
      glueRunQuota: Number(await param('glueRunQuota')),
      glueRunBudget: Number(await param('glueRunBudget')),
    });
  }
  return memo;
};
module.exports.build = build;
module.exports.functionKey = functionKey;
module.exports.lambdaLogicalId = lambdaLogicalId;

// `node stack/build.cjs '<params JSON>'` prints the generated parts: the stack tests check
// parameter variants (existing bucket, tracing) without packaging the stack again.
if (require.main === module) {
  const defaults = {
    root: process.cwd(),
    stage: 'dev',
    lakeBucketParam: '',
    tracing: false,
    glueWorkers: 2,
    glueRunQuota: 50,
    glueRunBudget: 30,
  };
  build({ ...defaults, ...JSON.parse(process.argv[2] ?? '{}') }).then(
    (out) => process.stdout.write(`${JSON.stringify(out)}\n`),
    (error) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
