import { createRequire } from 'node:module';
import { deleteAllVersions, type Fail, type Sender } from './s3-objects';

/**
 * `osls remove`: CloudFormation cannot delete a bucket that holds objects, so the artifacts bucket
 * (Glue's temp files, query results) is emptied first, every version. Then it says what stays: the
 * lake bucket and the ledger table (DeletionPolicy RetainExceptOnCreate), to delete by hand once
 * their data may go. (osls empties its deployment bucket, the Glue artifacts with it.)
 */

/** The deployed stack's outputs, or undefined when the stack does not exist. */
export async function stackOutputs(
  cfn: Sender,
  stackName: string,
): Promise<Record<string, string> | undefined> {
  // The CloudFormation client comes with osls (the deploy tool): no dependency of our own.
  const { DescribeStacksCommand } = createRequire(require.resolve('osls/package.json'))(
    '@aws-sdk/client-cloudformation',
  );
  try {
    const stacks = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return Object.fromEntries(
      (stacks.Stacks?.[0]?.Outputs ?? []).map((o: { OutputKey: string; OutputValue: string }) => [
        o.OutputKey,
        o.OutputValue,
      ]),
    );
  } catch (error) {
    if (/does not exist/.test(String((error as Error).message))) return undefined;
    throw error;
  }
}

export async function emptyForRemoval(p: {
  cfn: Sender;
  s3: () => Promise<Sender>;
  stackName: string;
  notice: (message: string) => void;
  fail: Fail;
}): Promise<{ emptied: number; kept?: string[] }> {
  const outputs = await stackOutputs(p.cfn, p.stackName);
  if (!outputs) return { emptied: 0 };
  const bucket = outputs['ArtifactsBucketName'];
  let emptied = 0;
  if (bucket) {
    emptied = await deleteAllVersions(await p.s3(), bucket, p.fail);
    p.notice(`Emptied s3://${bucket} (${emptied} object versions) so that the stack can be removed`);
  }
  const kept = [
    outputs['LakeBucketName'] && `lake bucket ${outputs['LakeBucketName']}`,
    outputs['LedgerTableName'] && `ledger table ${outputs['LedgerTableName']}`,
  ].filter((k): k is string => Boolean(k));
  if (kept.length)
    p.notice(`Kept (they hold data): ${kept.join(', ')}. Delete them by hand once their data may go.`);
  return { emptied, kept };
}
