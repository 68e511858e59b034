import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoEventLedger } from '../../shared/adapters/dynamo/dynamo-event-ledger';
import { EnvNames } from '../../shared/config';
import { awsBase, extraEnv } from '../../shared/runtime/aws';
import { makeHandler } from './reconcile-payments';

const env = extraEnv(EnvNames.accountsTable);

export const handler = makeHandler({
  ...awsBase('reconcile-payments'),
  ledger: new DynamoEventLedger({
    client: new DynamoDBClient({}),
    accountsTable: env[EnvNames.accountsTable],
  }),
});
