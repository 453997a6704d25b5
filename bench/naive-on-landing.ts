import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  PutItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { SQSBatchResponse } from 'aws-lambda';

/**
 * The baseline: the common hand-written landing handler that starts one execution per landed object
 * (SDLF's stage-A routing Lambda starts one per SQS record), plus one conditional PutItem per object
 * so that it does the same idempotency job as ours.
 * Correct enough to compare against — it dedups and reports partial failures — but it neither groups
 * by partition nor batches ledger writes.
 */
export function createNaiveHandler(deps: {
  readonly ddb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly table: string;
  readonly stateMachineArn: string;
}) {
  return async (event: { Records: Array<Record<string, unknown>> }): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const message of event.Records) {
      try {
        const notification = JSON.parse(String(message['body'])) as {
          Records?: Array<{
            s3: { bucket: { name: string }; object: { key: string; size: number; sequencer?: string } };
          }>;
        };
        for (const record of notification.Records ?? []) {
          const bucket = record.s3.bucket.name;
          const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
          const id = `${bucket}/${key}#${record.s3.object.sequencer ?? ''}`;
          try {
            await deps.ddb.send(
              new PutItemCommand({
                TableName: deps.table,
                Item: { pk: { S: id }, claimedAt: { S: new Date().toISOString() } },
                ConditionExpression: 'attribute_not_exists(pk)',
              }),
            );
          } catch (error) {
            if (error instanceof ConditionalCheckFailedException) continue;
            throw error;
          }
          await deps.sfn.send(
            new StartExecutionCommand({
              stateMachineArn: deps.stateMachineArn,
              name: createHash('sha256').update(id).digest('hex').slice(0, 64),
              input: JSON.stringify({ bucket, key, size: record.s3.object.size }),
            }),
          );
        }
      } catch {
        batchItemFailures.push({ itemIdentifier: String(message['messageId']) });
      }
    }
    return { batchItemFailures };
  };
}
