import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DynamoObjectLedger, WAITING_INDEX, waitingIndexDefinition } from '../../shared/aws/dynamo-ledger';
import { FileObjectLedger } from '../../local/file-ledger';
import type { ObjectLedger, PartitionLeases, RunSlots } from '../../shared/ports';
import type { MotoServer } from './moto';

export type Ledger = ObjectLedger & PartitionLeases & RunSlots;

let tables = 0;

/**
 * A fresh ledger table shaped like the stack's (key `pk`, on demand, TTL `expiresAt`, the waiting
 * runs' index) on moto.
 */
export async function dynamoLedgerOn(
  moto: MotoServer,
  table = `ledger-${process.pid}-${++tables}`,
): Promise<{ ledger: DynamoObjectLedger; table: string; client: DynamoDBClient }> {
  const client = new DynamoDBClient({ ...moto.clientConfig, maxAttempts: 2 });
  await client.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: WAITING_INDEX.partitionKey, AttributeType: 'S' },
        { AttributeName: WAITING_INDEX.sortKey, AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [waitingIndexDefinition()],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: table,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    }),
  );
  return { ledger: new DynamoObjectLedger(table, client), table, client };
}

export const fileLedger = (): FileObjectLedger =>
  new FileObjectLedger(join(mkdtempSync(join(tmpdir(), 'ledger-')), 'ledger.json'));

/** Both ledgers, for contract suites: `[name, make]`. */
export const ledgerKinds = (moto: () => MotoServer): Array<[string, () => Promise<Ledger>]> => [
  ['file ledger', async () => fileLedger()],
  ['DynamoDB ledger (moto server)', async () => (await dynamoLedgerOn(moto())).ledger],
];
