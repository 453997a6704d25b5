import { ROUTED_END_STATUSES } from '../../shared/domain/execution-end';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRegistry } from '../../shared/config/registry';
import { WAITING_INDEX, waitingIndexDefinition } from '../../shared/aws/dynamo-ledger';
import { DIMENSIONS, METRIC_NAMES } from '../../shared/domain/metrics';
import { stageDatabaseName, stageJobName, stageMetricsNamespace } from '../../shared/domain/stage-names';
import { boundDefinition } from '../../shared/domain/horizon';
import { zoneKey } from '../../shared/domain/layout';
import { CDC_DELETED, cdcStatePrefix, isIcebergTable } from '../../shared/domain/cdc';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  SERVERLESS_DIR,
  ensurePackaged,
  functionFolders,
  lambdaLogicalId,
  loadTemplate,
  props,
  resource,
  resourcesOfType,
  type Template,
} from './packaged';

// The template is JSON: assertions navigate it loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const ASL_FILE = join(ROOT, 'state-machines', 'medallion-pipeline.asl.json');
const registry = loadRegistry(join(ROOT, 'datasets'));
/** The stage of the default package (scripts/package.sh). */
const STAGE = 'dev';
let template: Template;

beforeAll(() => {
  ensurePackaged();
  template = loadTemplate();
}, PACKAGE_TIMEOUT_MS);

/** The definition as deployed: the Fn::Sub text with its variables. */
function definition(): { text: string; vars: Record<string, unknown>; asl: Record<string, unknown> } {
  const def = props(template, 'PipelineStateMachine').DefinitionString;
  const [text, vars] =
    typeof def === 'string'
      ? [def, {}]
      : Array.isArray(def['Fn::Sub'])
        ? def['Fn::Sub']
        : [def['Fn::Sub'], {}];
  return { text, vars, asl: JSON.parse(text) };
}

function tasks(asl: Loose): Array<[string, Loose]> {
  const out: Array<[string, unknown]> = [];
  const walk = (states: Record<string, Loose>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') out.push([name, state]);
      for (const branch of state.Branches ?? []) walk(branch.States);
      if (state.Iterator) walk(state.Iterator.States);
      if (state.ItemProcessor) walk(state.ItemProcessor.States);
    }
  };
  walk(asl.States);
  return out as Array<[string, unknown]>;
}

/** The value a `${var}` of the definition stands for. */
const varOf = (vars: Record<string, unknown>, value: unknown): unknown => {
  const m = typeof value === 'string' ? /^\$\{([^}]+)\}$/.exec(value) : null;
  return m ? vars[m[1]!] : value;
};

describe('landing: bucket notification → queue → on-landing', () => {
  test('every dataset landing prefix notifies the landing queue on object creation, without overlaps', () => {
    const notifications: Loose[] = props(template, 'LakeBucket').NotificationConfiguration
      .QueueConfigurations;
    const prefixes: string[] = notifications.map((n) => n.Filter.S3Key.Rules[0].Value);

    for (const n of notifications) {
      expect(n).toEqual(
        expect.objectContaining({
          Event: 's3:ObjectCreated:*',
          Queue: { 'Fn::GetAtt': ['LandingQueue', 'Arn'] },
        }),
      );
    }
    // A nested prefix is covered by the outer one (S3 refuses overlapping prefixes).
    for (const d of registry.datasets) {
      expect({ dataset: d.name, covered: prefixes.some((p) => d.landing.prefix.startsWith(p)) }).toEqual({
        dataset: d.name,
        covered: true,
      });
    }
    for (const p of prefixes) expect(prefixes.filter((q) => p.startsWith(q))).toEqual([p]);
  });

  test('the queue accepts S3 messages only from the lake bucket of this account', () => {
    const statement = props(template, 'LandingQueuePolicy').PolicyDocument.Statement[0];

    expect(statement).toEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sqs:SendMessage',
      }),
    );
    expect(JSON.stringify(statement.Condition.ArnLike['aws:SourceArn'])).toContain('-lake-');
    expect(statement.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    expect(resource(template, 'LakeBucket').DependsOn).toContain('LandingQueuePolicy');
  });

  test('queue: encrypted, dead-letters after a few receives, visibility covers retries of a batch', () => {
    const queue = props(template, 'LandingQueue');
    const fn = props(template, 'OnLandingLambdaFunction');
    const mapping = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').find(([, r]) =>
      JSON.stringify(r.Properties?.['FunctionName']).includes('OnLandingLambdaFunction'),
    )?.[1].Properties;

    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(props(template, 'LandingDeadLetterQueue').SqsManagedSseEnabled).toBe(true);
    expect(queue.RedrivePolicy.deadLetterTargetArn).toEqual({
      'Fn::GetAtt': ['LandingDeadLetterQueue', 'Arn'],
    });
    expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(3);
    expect(queue.MaximumMessageSize).toBeGreaterThanOrEqual(64 * 1024);
    expect(mapping).toBeDefined();
    // Lambda's guidance: ≥ 6 × the function timeout, plus the batching window.
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * fn.Timeout + (mapping!['MaximumBatchingWindowInSeconds'] as number),
    );
  });

  test('on-landing consumes the queue in debounced batches with partial batch responses', () => {
    const mapping = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').find(([, r]) =>
      JSON.stringify(r.Properties?.['FunctionName']).includes('OnLandingLambdaFunction'),
    )?.[1].Properties;

    expect(mapping).toEqual(
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': ['LandingQueue', 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    );
    expect(mapping!['MaximumBatchingWindowInSeconds']).toBeGreaterThanOrEqual(10);
    expect(mapping!['BatchSize']).toBeGreaterThan(10);
    expect(props(template, 'OnLandingLambdaFunction').Environment.Variables.STATE_MACHINE_ARN).toEqual({
      Ref: 'PipelineStateMachine',
    });
  });
});

describe('the state machine', () => {
  test('is the ASL of state-machines/ with every ${placeholder} bound to a stack value', () => {
    const source = JSON.parse(readFileSync(ASL_FILE, 'utf8'));
    const { text, vars, asl } = definition();

    expect(Object.keys(asl['States'] as object)).toEqual(Object.keys(source.States));
    expect(asl['StartAt']).toBe(source.StartAt);
    // Fn::Sub leaves nothing unresolved: every ${x} of the text is a variable or a pseudo parameter.
    for (const [, name] of text.matchAll(/\$\{([^}]+)\}/g)) {
      expect(name!.startsWith('AWS::') || name! in vars).toBe(true);
    }
    expect(text).not.toMatch(/\$\{[A-Z][A-Za-z]+(FunctionArn|Bucket|Location)\}/);
  });

  test('no ARN is written for one partition: Task resources and policies take ${AWS::Partition}', () => {
    const { asl } = definition();
    const hardCoded = [...JSON.stringify(template).matchAll(/arn:aws:[^"]{0,60}/g)].map((m) => m[0]);

    expect(hardCoded).toEqual([]);
    for (const [name, task] of tasks(asl))
      expect({ name, resource: task.Resource }).toEqual({
        name,
        resource: expect.stringMatching(/^arn:\$\{AWS::Partition\}:states:::/),
      });
  });

  test('each Lambda task invokes a function of this stack; each Glue task runs a job of this stack', () => {
    const { vars, asl } = definition();
    const functions = new Set(resourcesOfType(template, 'AWS::Lambda::Function').map(([id]) => id));
    const jobs = new Set(resourcesOfType(template, 'AWS::Glue::Job').map(([, r]) => r.Properties?.['Name']));
    let lambdaTasks = 0;
    let glueTasks = 0;

    for (const [name, task] of tasks(asl)) {
      if (task.Resource === 'arn:${AWS::Partition}:states:::lambda:invoke') {
        lambdaTasks++;
        const target = varOf(vars, task.Parameters.FunctionName) as { 'Fn::GetAtt': [string, string] };
        expect({ name, fn: functions.has(target['Fn::GetAtt'][0]) }).toEqual({ name, fn: true });
      }
      if (String(task.Resource).startsWith('arn:${AWS::Partition}:states:::glue:startJobRun')) {
        glueTasks++;
        const jobName = task.Parameters.JobName;
        if (jobName !== undefined) expect({ name, job: jobs.has(jobName) }).toEqual({ name, job: true });
        else expect(task.Parameters['JobName.$']).toEqual(expect.any(String));
      }
    }
    expect(lambdaTasks).toBeGreaterThan(0);
    expect(glueTasks).toBeGreaterThan(0);
  });

  test('bounds every Task and the execution as the local runner does (shared/domain/horizon.ts)', () => {
    const { asl } = definition();
    const expected = boundDefinition(JSON.parse(readFileSync(ASL_FILE, 'utf8')), registry.datasets);

    expect(asl['TimeoutSeconds']).toBe(expected.TimeoutSeconds);
    for (const [name, task] of tasks(asl))
      expect({ name, timeout: task.TimeoutSeconds }).toEqual({
        name,
        timeout: (expected.States as Loose)[name].TimeoutSeconds,
      });
  });

  test('logs errors to a log group with retention; tracing follows the parameter (off by default)', () => {
    const sm = props(template, 'PipelineStateMachine');
    const logGroup = props(template, 'StateMachineLogGroup');

    expect(['ERROR', 'ALL']).toContain(sm.LoggingConfiguration.Level);
    expect(sm.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn).toEqual({
      'Fn::GetAtt': ['StateMachineLogGroup', 'Arn'],
    });
    expect(logGroup.RetentionInDays).toBeGreaterThan(0);
    expect(sm.TracingConfiguration).toEqual({ Enabled: false });
    expect(sm.StateMachineType).toBe('STANDARD');
    expect(sm.RoleArn).toEqual({ 'Fn::GetAtt': ['StateMachineRole', 'Arn'] });
  });
});

describe('runs stopped from outside', () => {
  test('FAILED, ABORTED and TIMED_OUT executions of the pipeline reach finish-run, which may be invoked by that rule, with retries and a dead-letter queue', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule').map(
      ([id, r]) => [id, r.Properties as Loose] as const,
    );
    const finishRun = lambdaLogicalId('finish-run');
    const rule = rules.find(([, p]) =>
      (p.Targets as Loose[]).some((t) => JSON.stringify(t.Arn).includes(finishRun)),
    );

    expect(rule).toBeDefined();
    const pattern = rule?.[1].EventPattern as Loose;
    expect(pattern.source).toEqual(['aws.states']);
    expect(pattern['detail-type']).toEqual(['Step Functions Execution Status Change']);
    // The statuses the local runtime's twin of this rule routes too (shared/domain/execution-end.ts).
    expect(pattern.detail.status.sort()).toEqual([...ROUTED_END_STATUSES].sort());
    // Delivery retried for a day, then dead-lettered; a finish-run that keeps failing goes there too.
    const target = (rule?.[1].Targets as Loose[])[0];
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
    expect(target.DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': ['FinishRunDeadLetterQueue', 'Arn'] });
    const invokeConfigs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').map(
      ([, r]) => r.Properties as Loose,
    );
    expect(invokeConfigs).toContainEqual(
      expect.objectContaining({
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': ['FinishRunDeadLetterQueue', 'Arn'] } },
        },
      }),
    );
    const dlqPolicy = resourcesOfType(template, 'AWS::SQS::QueuePolicy')
      .map(([, r]) => r.Properties as Loose)
      .find((p) => JSON.stringify(p.Queues).includes('FinishRunDeadLetterQueue'));
    expect(dlqPolicy?.PolicyDocument.Statement[0].Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(JSON.stringify(dlqPolicy?.PolicyDocument.Statement[0].Condition)).toContain(
      `rule/${String(rule?.[1].Name).replace(/-rule-\d+$/, '')}`,
    );
    const alarm = resourcesOfType(template, 'AWS::CloudWatch::Alarm')
      .map(([, r]) => r.Properties as Loose)
      .find((a) => JSON.stringify(a.Dimensions).includes('FinishRunDeadLetterQueue'));
    expect(alarm?.AlarmActions).toEqual([{ Ref: 'AlertTopic' }]);
    expect(pattern.detail.stateMachineArn).toEqual([{ Ref: 'PipelineStateMachine' }]);
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').map(
      ([, p]) => p.Properties as Loose,
    );
    expect(
      permissions.some(
        (p) =>
          p.Principal === 'events.amazonaws.com' &&
          JSON.stringify(p.FunctionName).includes(finishRun) &&
          JSON.stringify(p.SourceArn).includes(String(rule?.[1].Name)),
      ),
    ).toBe(true);
  });
});

describe('Glue: jobs, scripts, catalog', () => {
  /** The staged artifacts (stack/glue-artifacts.ts): name → content-addressed key. */
  const staged = (): Map<string, string> =>
    new Map(
      (
        JSON.parse(readFileSync(join(SERVERLESS_DIR, 'glue-artifacts', 'manifest.json'), 'utf8')) as {
          files: Array<{ name: string; key: string }>;
        }
      ).files.map((f) => [f.name, f.key]),
    );
  const deployed = (key: string | undefined) => ({ 'Fn::Sub': `s3://\${ServerlessDeploymentBucket}/${key}` });

  test('every job a dataset declares exists on Glue 5.1, runs its staged script, and runs concurrently', () => {
    const files = staged();
    for (const d of registry.datasets) {
      for (const stage of ['bronze', 'silver', 'gold'] as const) {
        const job = resourcesOfType(template, 'AWS::Glue::Job').find(
          ([, r]) => r.Properties?.['Name'] === stageJobName(d.stages[stage].glueJob, STAGE),
        )?.[1].Properties as Record<string, Loose>;
        expect(job).toBeDefined();
        expect(job['GlueVersion']).toBe('5.1');
        expect(job['Timeout']).toBeGreaterThanOrEqual(d.stages[stage].timeoutMinutes);
        expect(job['ExecutionProperty'].MaxConcurrentRuns).toBeGreaterThan(1);
        expect(existsSync(join(ROOT, 'glue', `medallion_${stage}.py`))).toBe(true);
        expect(job['Command'].ScriptLocation).toEqual(deployed(files.get(`glue/medallion_${stage}.py`)));
        expect(job['DefaultArguments']['--extra-py-files']).toEqual(
          deployed(files.get('glue/medallion_glue.zip')),
        );
      }
    }
  });

  test('Glue 5.x settings: security configuration, bookmarks disabled, logs to the stack log groups', () => {
    const security = props(template, 'GlueSecurityConfiguration');
    const logGroups = ['GlueOutputLogGroup', 'GlueErrorLogGroup'].map((id) => props(template, id));

    expect(security.EncryptionConfiguration.S3Encryptions).toEqual([{ S3EncryptionMode: 'SSE-S3' }]);
    expect(security.EncryptionConfiguration.CloudWatchEncryption).toEqual({
      CloudWatchEncryptionMode: 'SSE-KMS',
      KmsKeyArn: { 'Fn::GetAtt': ['LogsKey', 'Arn'] },
    });
    for (const [name, job] of resourcesOfType(template, 'AWS::Glue::Job')) {
      const p = job.Properties as Record<string, Loose>;
      const args = p['DefaultArguments'];
      expect({ name, security: p['SecurityConfiguration'] }).toEqual({
        name,
        security: { Ref: 'GlueSecurityConfiguration' },
      });
      expect({ name, bookmarks: args['--job-bookmark-option'] }).toEqual({
        name,
        bookmarks: 'job-bookmark-disable',
      });
      // Glue 5.x logs in real time: the Glue 4 switch does nothing there.
      expect(args['--enable-continuous-cloudwatch-log']).toBeUndefined();
      expect(logGroups.map((g) => g.LogGroupName)).toEqual([
        `${args['--custom-logGroup-prefix']}/output`,
        `${args['--custom-logGroup-prefix']}/error`,
      ]);
      expect(['STANDARD', 'FLEX']).toContain(p['ExecutionClass']);
    }
    for (const group of logGroups) {
      expect(group.RetentionInDays).toBeGreaterThan(0);
      expect(group.KmsKeyId).toEqual({ 'Fn::GetAtt': ['LogsKey', 'Arn'] });
    }
  });

  test('a compiled plan of every dataset is staged, in the folder prepare-run names (PLANS_LOCATION)', () => {
    const files = staged();
    const plansLocation = props(template, 'PrepareRunLambdaFunction').Environment.Variables.PLANS_LOCATION;
    for (const d of registry.datasets) {
      const key = files.get(`plans/${d.name}.json`)!;
      expect(plansLocation).toEqual({
        'Fn::Join': ['', ['s3://', { Ref: 'ServerlessDeploymentBucket' }, `/${key.replace(/[^/]+$/, '')}`]],
      });
      const plan = JSON.parse(readFileSync(join(SERVERLESS_DIR, 'glue-artifacts', key), 'utf8'));
      expect(plan.dataset.name).toBe(d.name);
      expect(plan.sql.silver.clean).toEqual(expect.any(String));
    }
  });

  test('each dataset has its database and four tables: Parquet partitioned by its keys at its zone, or Iceberg (a CDC state)', () => {
    for (const d of registry.datasets) {
      const db = resourcesOfType(template, 'AWS::Glue::Database').find(([, r]) =>
        JSON.stringify(r.Properties).includes(`"Name":"${stageDatabaseName(d.catalog.database, STAGE)}"`),
      );
      expect(db).toBeDefined();
      for (const zone of ['bronze', 'silver', 'gold', 'quarantine'] as const) {
        const table = resourcesOfType(template, 'AWS::Glue::Table').find(
          ([, r]) => (r.Properties?.['TableInput'] as { Name: string }).Name === d.catalog.tables[zone],
        )?.[1].Properties as Record<string, Loose>;
        expect(table).toBeDefined();
        expect(table['DatabaseName']).toBe(stageDatabaseName(d.catalog.database, STAGE));
        const input = table['TableInput'];
        if (isIcebergTable(d, zone)) {
          // The current state of a CDC dataset: one Iceberg table, no partitions (test/stack/iceberg.test.ts).
          expect(table['OpenTableFormatInput']).toEqual({
            IcebergInput: { MetadataOperation: 'CREATE', Version: '2' },
          });
          expect(input.PartitionKeys).toEqual([]);
          expect(input.StorageDescriptor.Location).toEqual({
            'Fn::Join': ['', ['s3://', { Ref: 'LakeBucket' }, `/${cdcStatePrefix(d.name)}`]],
          });
          continue;
        }
        expect(table['OpenTableFormatInput']).toBeUndefined();
        expect(input.PartitionKeys).toEqual(
          d.partitionKeys.map((k) => ({ Name: k.name, Type: 'string', Comment: '[internal] Partition key' })),
        );
        expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
          'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
        );
        // The location is the zone prefix of shared/domain/layout.ts (zoneKey without the partition).
        const prefix = zoneKey(zone, d.name, 'x').replace(/x\/$/, '');
        expect(input.StorageDescriptor.Location).toEqual({
          'Fn::Join': ['', ['s3://', { Ref: 'LakeBucket' }, `/${prefix}`]],
        });
      }
    }
  });

  test('silver columns are the declared columns with their types, then the lineage columns (and a CDC state its tombstone flag)', () => {
    for (const d of registry.datasets) {
      const silver = resourcesOfType(template, 'AWS::Glue::Table').find(
        ([, r]) => (r.Properties?.['TableInput'] as { Name: string }).Name === d.catalog.tables.silver,
      )?.[1].Properties as Record<string, Loose>;

      expect(
        (silver['TableInput'].StorageDescriptor.Columns as Array<{ Name: string; Type: string }>).map(
          ({ Name, Type }) => ({ Name, Type }),
        ),
      ).toEqual([
        ...d.columns.map((c) => ({ Name: c.name, Type: c.type })),
        { Name: '_ingested_at', Type: 'timestamp' },
        { Name: '_source_file', Type: 'string' },
        ...(d.mode === 'cdc' ? [{ Name: CDC_DELETED, Type: 'boolean' }] : []),
      ]);
    }
  });
});

describe('ledger, alerts, alarms, dashboard', () => {
  test("ledger: key pk, the waiting runs' index, on demand, TTL on expiresAt, point-in-time recovery, encrypted", () => {
    const table = props(template, 'LedgerTable');

    expect(table.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(table.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: WAITING_INDEX.partitionKey, AttributeType: 'S' },
      { AttributeName: WAITING_INDEX.sortKey, AttributeType: 'S' },
    ]);
    expect(table.GlobalSecondaryIndexes).toEqual([waitingIndexDefinition()]);
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(table.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(true);
    expect(props(template, 'OnLandingLambdaFunction').Environment.Variables.LEDGER_TABLE).toEqual({
      Ref: 'LedgerTable',
    });
  });

  test('the alert topic is KMS-encrypted with a key CloudWatch alarms may use; on-call e-mail is optional', () => {
    const keyPolicy = props(template, 'AlertKey').KeyPolicy.Statement;

    expect(props(template, 'AlertTopic').KmsMasterKeyId).toEqual({ 'Fn::GetAtt': ['AlertKey', 'Arn'] });
    expect(keyPolicy).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        }),
      ]),
    );
    expect(resource(template, 'OnCallSubscription').Condition).toBe('HasOnCallEmail');
    expect(props(template, 'OnCallSubscription')).toEqual(
      expect.objectContaining({ Protocol: 'email', TopicArn: { Ref: 'AlertTopic' } }),
    );
  });

  test('every alarm notifies the alert topic', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');

    expect(alarms.length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms) {
      expect({ id, actions: alarm.Properties?.['AlarmActions'] }).toEqual({
        id,
        actions: [{ Ref: 'AlertTopic' }],
      });
    }
  });

  test('alarms cover timed-out and aborted runs, the DLQ, and errors and throttles of every function', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(
      ([, a]) => a.Properties as Record<string, Loose>,
    );
    // A plain alarm, or a metric math alarm over the metric (errors minus those retried by design).
    const on = (metric: string, dimension: unknown) =>
      alarms.some((a) =>
        [a, ...(a['Metrics'] ?? []).map((m: Loose) => m.MetricStat?.Metric ?? {})].some(
          (m) =>
            m['MetricName'] === metric && JSON.stringify(m['Dimensions']).includes(JSON.stringify(dimension)),
        ),
      );

    for (const metric of ['ExecutionsTimedOut', 'ExecutionsAborted']) {
      expect({ metric, alarmed: on(metric, { Ref: 'PipelineStateMachine' }) }).toEqual({
        metric,
        alarmed: true,
      });
    }
    expect(
      on('ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': ['LandingDeadLetterQueue', 'QueueName'] }),
    ).toBe(true);
    for (const folder of functionFolders()) {
      for (const metric of ['Errors', 'Throttles']) {
        expect({ folder, metric, alarmed: on(metric, { Ref: lambdaLogicalId(folder) }) }).toEqual({
          folder,
          metric,
          alarmed: true,
        });
      }
    }
  });

  test('each dataset has a quarantine ratio alarm (metric math) at its declared maxRatio', () => {
    for (const d of registry.datasets) {
      const alarm = resourcesOfType(template, 'AWS::CloudWatch::Alarm')
        .map(([, a]) => a.Properties as Record<string, Loose>)
        .find((a) => a['AlarmName'].endsWith(`quarantine-ratio-${d.name}`));

      expect(alarm).toBeDefined();
      expect(alarm!['Threshold']).toBe(d.quarantine.maxRatio);
      const stats = alarm!['Metrics'].filter((m: { MetricStat?: unknown }) => m.MetricStat);
      expect(
        stats
          .map((m: { MetricStat: { Metric: { MetricName: string } } }) => m.MetricStat.Metric.MetricName)
          .sort(),
      ).toEqual([METRIC_NAMES.recordsIn, METRIC_NAMES.recordsQuarantined].sort());
      for (const m of stats) {
        expect(m.MetricStat.Metric.Namespace).toBe(stageMetricsNamespace(STAGE));
        expect(m.MetricStat.Metric.Dimensions).toEqual([
          { Name: DIMENSIONS.dataset, Value: d.name },
          { Name: DIMENSIONS.stage, Value: 'silver' },
        ]);
      }
      expect(alarm!['Metrics'].find((m: { ReturnData: boolean }) => m.ReturnData).Expression).toMatch(
        /quarantined \/ records/,
      );
    }
  });

  test('the dashboard shows runs, durations, records and quarantine of every dataset', () => {
    const body = props(template, 'Dashboard').DashboardBody['Fn::Sub'];
    const titles = (JSON.parse(body).widgets as Array<{ properties: { title: string } }>).map(
      (w) => w.properties.title,
    );

    expect(titles).toEqual(expect.arrayContaining(['Pipeline runs', 'Pipeline run duration (ms)']));
    for (const d of registry.datasets) {
      expect(titles).toEqual(
        expect.arrayContaining([
          `${d.name}: stage duration (s)`,
          `${d.name}: records`,
          `${d.name}: quarantine`,
        ]),
      );
    }
    expect(body).toContain(stageMetricsNamespace(STAGE));
  });

  test('buckets are encrypted and private', () => {
    for (const id of ['LakeBucket', 'ArtifactsBucket']) {
      const bucket = props(template, id);
      expect(
        bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
          .SSEAlgorithm,
      ).toMatch(/AES256|aws:kms/);
      expect(Object.values(bucket.PublicAccessBlockConfiguration)).toEqual([true, true, true, true]);
    }
  });
});
