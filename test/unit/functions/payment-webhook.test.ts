import { createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../../functions/payment-webhook/payment-webhook';
import { DynamoEventLedger } from '../../../shared/adapters/dynamo/dynamo-event-ledger';
import { SecretsManagerSecrets } from '../../../shared/adapters/secrets/secrets-manager-secrets';
import { SqsPaymentQueue } from '../../../shared/adapters/sqs/sqs-payment-queue';
import { FixedClock } from '../../../shared/ports/clock';
import { keys } from '../../../shared/tables';
import { FIXTURE_SECRETS, fixtureBytes, fixtureJson, RECEIVED_AT } from '../../fixtures/webhooks';
import { tenants } from '../../support/builders';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/arrears-payments';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:arrears/webhooks-AbCdEf';
const ACCOUNTS = 'arrears-accounts';

const sqs = mockClient(SQSClient);
const ddb = mockClient(DynamoDBDocumentClient);
const sm = mockClient(SecretsManagerClient);

const context = {
  functionName: 'payment-webhook',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:payment-webhook',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  logGroupName: '/aws/lambda/payment-webhook',
  logStreamName: '2026/03/20/[$LATEST]abcdef',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

interface ApiGwEvent {
  headers: Record<string, string>;
  pathParameters: { provider: string; tenant: string };
  body: string;
  isBase64Encoded: boolean;
}

const intentRequest = () => fixtureJson<ApiGwEvent>('apigw/stripe-payment-intent-succeeded.json');

/** A request carrying `body`, signed with the fixture secret at the clock's time. */
const signedStripeRequest = (body: Buffer, secret: string = FIXTURE_SECRETS.stripe.acme): ApiGwEvent => {
  const t = Date.parse(RECEIVED_AT) / 1000;
  const v1 = createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${t}.`), body]))
    .digest('hex');
  const request = intentRequest();
  return {
    ...request,
    headers: { ...request.headers, 'stripe-signature': `t=${t},v1=${v1}` },
    body: body.toString('utf8'),
  };
};

const expectedPayment = {
  tenantId: 'acme',
  paymentId: 'pi_3R1xYzK2eZvKYlo21kQ7mN4p',
  channel: 'webhook',
  provider: 'stripe',
  amount: 125_000,
  currency: 'USD',
  receivedAt: '2026-03-20T14:59:57.000Z',
  accountId: 'CUST-1',
  invoiceId: 'INV-1',
};

let clock: FixedClock;
let calls: string[];

const handler = () =>
  makeHandler({
    clock,
    logger: new Logger({ serviceName: 'payment-webhook', logLevel: 'SILENT' }),
    tenants,
    secrets: new SecretsManagerSecrets(new SecretsManagerClient({ region: 'us-east-1' })),
    webhookSecretId: SECRET_ARN,
    queue: new SqsPaymentQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL),
    ledger: new DynamoEventLedger({
      client: new DynamoDBClient({ region: 'us-east-1' }),
      accountsTable: ACCOUNTS,
    }),
  });

const invoke = (event: unknown, fn = handler()) => fn(event, context);

describe('payment-webhook', () => {
  beforeEach(() => {
    sqs.reset();
    ddb.reset();
    sm.reset();
    clock = new FixedClock(RECEIVED_AT);
    calls = [];
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(FIXTURE_SECRETS) });
    ddb.on(GetCommand).callsFake(() => {
      calls.push('GetItem');
      return {};
    });
    ddb.on(PutCommand).callsFake(() => {
      calls.push('PutItem');
      return {};
    });
    sqs.on(SendMessageCommand).callsFake(() => {
      calls.push('SendMessage');
      return { MessageId: 'a1b2c3d4-0000-4000-8000-000000000001' };
    });
  });

  it('verifies, enqueues the payment, then marks the event handled, and answers 200', async () => {
    const response = await invoke(intentRequest());

    expect(response).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ received: true, events: 1, enqueued: 1, duplicates: 0, ignored: 0 }),
    });
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, MessageBody: JSON.stringify(expectedPayment) },
    ]);
    const eventKey = keys.webhookEvent('acme', 'stripe', 'evt_3R1xYzK2eZvKYlo21a0bC3dE');
    expect(ddb.commandCalls(GetCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: ACCOUNTS,
        Key: eventKey,
        ProjectionExpression: '#pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ConsistentRead: true,
      },
    ]);
    expect(ddb.commandCalls(PutCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: ACCOUNTS,
        Item: {
          ...eventKey,
          tenantId: 'acme',
          provider: 'stripe',
          eventId: 'evt_3R1xYzK2eZvKYlo21a0bC3dE',
          type: 'payment_intent.succeeded',
          paymentId: 'pi_3R1xYzK2eZvKYlo21kQ7mN4p',
          receivedAt: '2026-03-20T15:00:00.000Z',
          entity: 'webhook-event',
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
      },
    ]);
    expect(calls).toEqual(['GetItem', 'SendMessage', 'PutItem']);
  });

  it('decodes a base64 body before verifying it', async () => {
    const request = fixtureJson<ApiGwEvent>('apigw/stripe-charge-succeeded.base64.json');
    expect(request.isBase64Encoded).toBe(true);

    const response = await invoke(request);

    expect(response.statusCode).toBe(200);
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      MessageBody: JSON.stringify(expectedPayment),
    });
  });

  it('answers 200 to a redelivered event and enqueues nothing', async () => {
    ddb.on(GetCommand).resolves({ Item: { pk: 'T#acme#EVT#stripe#evt_3R1xYzK2eZvKYlo21a0bC3dE' } });

    const response = await invoke(intentRequest());

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ enqueued: 0, duplicates: 1 });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('answers 401 without detail when the body was tampered with', async () => {
    const request = intentRequest();
    request.body = request.body.replace('125000', '1');

    const response = await invoke(request);

    expect(response).toEqual({
      statusCode: 401,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'unauthorized' }),
    });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('answers 401 to a genuine request replayed after the tolerance', async () => {
    clock.advance(301_000);
    expect((await invoke(intentRequest())).statusCode).toBe(401);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('answers 404 for an unknown provider, an unknown tenant and a tenant without a secret', async () => {
    const request = intentRequest();
    const to = (provider: string, tenant: string) => ({ ...request, pathParameters: { provider, tenant } });
    const fn = handler();

    const responses = await Promise.all([
      invoke(to('adyen', 'acme'), fn),
      invoke(to('stripe', 'globex'), fn),
      invoke(to('stripe', 'northwind'), fn),
    ]);

    expect(responses.map((response) => [response.statusCode, response.body])).toEqual([
      [404, JSON.stringify({ message: 'not found' })],
      [404, JSON.stringify({ message: 'not found' })],
      [404, JSON.stringify({ message: 'not found' })],
    ]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('answers 400 to a genuine body that is not a Stripe event', async () => {
    const response = await invoke(signedStripeRequest(Buffer.from('{"hello":"world"}')));
    expect(response).toMatchObject({ statusCode: 400, body: JSON.stringify({ message: 'bad request' }) });
    const notJson = await invoke(signedStripeRequest(Buffer.from('not json')));
    expect(notJson.statusCode).toBe(400);
  });

  it('answers 500 without echoing the error, and leaves the event unmarked so the redelivery enqueues it', async () => {
    sqs
      .on(SendMessageCommand)
      .rejects(new Error('AccessDenied: arn:aws:iam::123456789012:role/secret-detail'));

    const response = await invoke(intentRequest());

    expect(response).toEqual({
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'internal error' }),
    });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('answers 500 when the secret is not the documented JSON, without leaking it', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"stripe":{"acme":42}}' });
    const response = await invoke(intentRequest());
    expect(response).toMatchObject({ statusCode: 500, body: JSON.stringify({ message: 'internal error' }) });
  });

  it('acknowledges events that are not payments and enqueues nothing', async () => {
    const response = await invoke(signedStripeRequest(fixtureBytes('stripe/customer.created.json')));
    expect(JSON.parse(response.body)).toEqual({
      received: true,
      events: 1,
      enqueued: 0,
      duplicates: 0,
      ignored: 1,
    });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('verifies a GoCardless delivery and acknowledges its events', async () => {
    const response = await invoke(fixtureJson('apigw/gocardless-payments-confirmed.json'));
    expect(JSON.parse(response.body)).toEqual({
      received: true,
      events: 2,
      enqueued: 0,
      duplicates: 0,
      ignored: 2,
    });

    const forged = fixtureJson<ApiGwEvent>('apigw/gocardless-payments-confirmed.json');
    forged.headers['webhook-signature'] = '0'.repeat(64);
    expect((await invoke(forged)).statusCode).toBe(401);
  });

  it('reads the secret once for many requests', async () => {
    const fn = handler();
    await invoke(intentRequest(), fn);
    await invoke(intentRequest(), fn);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });
});
