import type { Cfn } from './context';

/**
 * What each function may do, beyond writing its own log group (and X-Ray segments when tracing is
 * on): the actions its code calls (shared/aws adapters), on the resources it touches. One entry per
 * functions/<folder>; the stack refuses to build a function without one.
 */

export interface PolicyRefs {
  lakeBucketArn: Cfn;
  lakeObjects: (pattern: string) => Cfn;
  catalogArn: Cfn;
  databaseArns: Cfn[];
  tableArns: Cfn[];
  metricsNamespace: string;
  stateMachineArn: Cfn;
  executionsArn: Cfn;
  /** The stack's Glue jobs. */
  jobArns: Cfn[];
}

/** SfnRunStarter.status: DescribeExecution of the pipeline's executions (is a claim's / lease's owner alive?). */
const readRunStatus = (refs: PolicyRefs): Cfn => ({
  Sid: 'ReadRunStatus',
  Effect: 'Allow',
  Action: ['states:DescribeExecution'],
  Resource: refs.executionsArn,
});

/** DynamoObjectLedger: TransactWriteItems of Put / Update / Delete (+ condition checks), GetItem. */
const ledger = (): Cfn => ({
  Sid: 'Ledger',
  Effect: 'Allow',
  Action: [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:GetItem',
  ],
  Resource: { 'Fn::GetAtt': ['LedgerTable', 'Arn'] },
});

/** DynamoObjectLedger.waitingRuns / countWaitingRuns: the waiting runs' index (the sweep and slot hand-overs). */
const readWaitingQueue = (): Cfn => ({
  Sid: 'ReadWaitingRuns',
  Effect: 'Allow',
  Action: ['dynamodb:Query'],
  Resource: { 'Fn::Sub': '${LedgerTable.Arn}/index/waiting-runs' },
});

/** SnsAlerter: Publish to the alert topic, under its customer managed key. */
const publishAlerts = (): Cfn[] => [
  { Sid: 'PublishAlerts', Effect: 'Allow', Action: ['sns:Publish'], Resource: { Ref: 'AlertTopic' } },
  {
    Sid: 'EncryptAlerts',
    Effect: 'Allow',
    Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
    Resource: { 'Fn::GetAtt': ['AlertKey', 'Arn'] },
  },
];

/** S3ManifestStore: the run manifests the jobs write (record-stage; finish-run reads bronze's source files). */
const readManifests = (refs: PolicyRefs): Cfn[] => [
  {
    Sid: 'ReadManifests',
    Effect: 'Allow',
    Action: ['s3:GetObject'],
    Resource: refs.lakeObjects('_manifests/*'),
  },
  {
    Sid: 'ManifestNotFound',
    Effect: 'Allow',
    // Without ListBucket S3 answers a missing manifest with AccessDenied instead of NoSuchKey.
    Action: ['s3:ListBucket'],
    Resource: refs.lakeBucketArn,
    Condition: { StringLike: { 's3:prefix': ['_manifests/*'] } },
  },
];

export const FUNCTION_POLICIES: Readonly<Record<string, (refs: PolicyRefs) => Cfn[]>> = {
  'on-landing': (refs) => [
    {
      Sid: 'LandingQueue',
      Effect: 'Allow',
      Action: [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ChangeMessageVisibility',
      ],
      Resource: { 'Fn::GetAtt': ['LandingQueue', 'Arn'] },
    },
    ledger(),
    { Sid: 'StartRuns', Effect: 'Allow', Action: ['states:StartExecution'], Resource: refs.stateMachineArn },
    readRunStatus(refs),
  ],

  // GlueJobRunFinder: the runs of the stack's Glue jobs (an ambiguous start's run, then its state).
  'adopt-run': (refs) => [
    {
      Sid: 'ReadJobRuns',
      Effect: 'Allow',
      Action: ['glue:GetJobRuns', 'glue:GetJobRun'],
      Resource: refs.jobArns,
    },
  ],

  'prepare-run': (refs) => [ledger(), readRunStatus(refs)],

  'record-stage': (refs) => [
    ...readManifests(refs),
    {
      Sid: 'RegisterPartitions',
      Effect: 'Allow',
      Action: ['glue:GetTable', 'glue:BatchCreatePartition', 'glue:BatchUpdatePartition'],
      Resource: [refs.catalogArn, ...refs.databaseArns, ...refs.tableArns],
    },
    {
      Sid: 'PublishMetrics',
      Effect: 'Allow',
      // PutMetricData has no resource-level permissions; the namespace condition narrows it.
      Action: ['cloudwatch:PutMetricData'],
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': refs.metricsNamespace } },
    },
    {
      Sid: 'ReadQuarantineBaseline',
      Effect: 'Allow',
      // GetMetricData has no resource-level permissions (docs/deploy.md).
      Action: ['cloudwatch:GetMetricData'],
      Resource: '*',
    },
  ],

  notify: () => publishAlerts(),

  'finish-run': (refs) => [
    ledger(),
    // Slots go to the oldest waiting run; the sweep judges slot holders by their status.
    readWaitingQueue(),
    readRunStatus(refs),
    // The run's bronze manifest: objects deferred during the run that it read need no follow-up run.
    ...readManifests(refs),
    // The follow-up run of objects that landed during this run, and runs that waited for a slot.
    {
      Sid: 'StartFollowUpRuns',
      Effect: 'Allow',
      Action: ['states:StartExecution'],
      Resource: refs.stateMachineArn,
    },
    // The page for an execution that failed without running its failure path (States.Runtime).
    ...publishAlerts(),
    // Its on-failure destination (asynchronous invocations by the EventBridge rule).
    {
      Sid: 'DeadLetterFailedReleases',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: { 'Fn::GetAtt': ['FinishRunDeadLetterQueue', 'Arn'] },
    },
  ],
};
