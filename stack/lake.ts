import { sub, type Cfn, type Resources, type StackContext } from './context';

/**
 * The lake bucket (unless an existing one is used) and its S3 → SQS notifications, one per landing
 * prefix. S3 refuses overlapping notification prefixes: a prefix nested in another dataset's is
 * already covered by it (on-landing routes each key to the longest matching prefix).
 */

export const notificationPrefixes = (ctx: StackContext): string[] => {
  const all = ctx.datasets.map((d) => d.landing.prefix);
  return [...new Set(all)]
    .filter((prefix) => !all.some((other) => other !== prefix && prefix.startsWith(other)))
    .sort();
};

/** A bucket policy denying every request without TLS (the guard serverless puts on its bucket). */
export const tlsOnlyPolicy = (bucketLogicalId: string): Cfn => ({
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

function lakeBucket(ctx: StackContext, prefixes: string[]): Cfn {
  return {
    Type: 'AWS::S3::Bucket',
    // S3 checks it may send to the queue when the notification is created.
    DependsOn: ['LandingQueuePolicy'],
    // Kept by `osls remove` (it holds the lake); deleted if the stack's first create rolls back.
    DeletionPolicy: 'RetainExceptOnCreate',
    UpdateReplacePolicy: 'Retain',
    Properties: {
      BucketName: sub(`${ctx.prefix}-lake-\${AWS::AccountId}-\${AWS::Region}`),
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
      NotificationConfiguration: {
        QueueConfigurations: prefixes.map((prefix) => ({
          Event: 's3:ObjectCreated:*',
          Queue: { 'Fn::GetAtt': ['LandingQueue', 'Arn'] },
          Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: prefix }] } },
        })),
      },
    },
  };
}

/** The landing queue accepts notifications from the lake bucket of this account only. */
const landingQueuePolicy = (ctx: StackContext): Cfn => ({
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
            ArnLike: { 'aws:SourceArn': ctx.lakeBucketArn },
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          },
        },
      ],
    },
  },
});

export function lakeResources(ctx: StackContext): { resources: Resources; outputs: Resources } {
  const prefixes = notificationPrefixes(ctx);
  const resources: Resources = {};
  const outputs: Resources = { LakeBucketName: { Value: ctx.lakeBucket } };
  if (!ctx.existingLake) {
    resources['LakeBucket'] = lakeBucket(ctx, prefixes);
    resources['LakeBucketPolicy'] = tlsOnlyPolicy('LakeBucket');
  } else {
    // CloudFormation cannot add notifications to a bucket it does not own: docs/deploy.md.
    outputs['LandingNotificationConfiguration'] = {
      Description: 'Apply to the existing lake bucket: aws s3api put-bucket-notification-configuration',
      Value: {
        'Fn::Sub': [
          JSON.stringify({
            QueueConfigurations: prefixes.map((prefix) => ({
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
  resources['LandingQueuePolicy'] = landingQueuePolicy(ctx);
  return { resources, outputs };
}
