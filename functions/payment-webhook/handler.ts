import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoEventLedger } from '../../shared/adapters/dynamo/dynamo-event-ledger';
import { SecretsManagerSecrets } from '../../shared/adapters/secrets/secrets-manager-secrets';
import { SqsPaymentQueue } from '../../shared/adapters/sqs/sqs-payment-queue';
import { EnvNames } from '../../shared/config';
import { awsBase, extraEnv } from '../../shared/runtime/aws';
import { makeHandler } from './payment-webhook';

const env = extraEnv(EnvNames.accountsTable, EnvNames.paymentsQueueUrl, EnvNames.webhookSecretArn);

export const handler = makeHandler({
  ...awsBase('payment-webhook'),
  secrets: new SecretsManagerSecrets(new SecretsManagerClient({})),
  webhookSecretId: env[EnvNames.webhookSecretArn],
  queue: new SqsPaymentQueue(new SQSClient({}), env[EnvNames.paymentsQueueUrl]),
  ledger: new DynamoEventLedger({
    client: new DynamoDBClient({}),
    accountsTable: env[EnvNames.accountsTable],
  }),
});
