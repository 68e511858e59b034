import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import { ConfigError } from '../../shared/config';
import { UnknownTenantError } from '../../shared/domain/tenant/tenant';
import { MalformedWebhookError, webhookProvider } from '../../shared/domain/webhook';
import type { EventLedger } from '../../shared/ports/event-ledger';
import type { PaymentQueue } from '../../shared/ports/payment-queue';
import type { Secrets } from '../../shared/ports/secrets';
import type { Deps } from '../../shared/runtime/deps';
import { type HttpResponse, WebhookHttpEvent, type WebhookResult, WebhookSecrets } from './schema';

export type PaymentWebhookDeps = Pick<Deps, 'clock' | 'logger' | 'tenants'> & {
  secrets: Secrets;
  /** Id (ARN) of the secret whose JSON is {@link WebhookSecrets}. */
  webhookSecretId: string;
  queue: PaymentQueue;
  ledger: EventLedger;
};

/** One webhook delivery as the provider sent it. */
export interface WebhookDelivery {
  provider: string;
  tenantId: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The raw body bytes. */
  payload: Uint8Array;
}

const signingSecrets = async (
  deps: PaymentWebhookDeps,
  provider: string,
  tenantId: string,
): Promise<string[]> => {
  let json: unknown;
  try {
    json = JSON.parse(await deps.secrets.get(deps.webhookSecretId));
  } catch (error) {
    if (error instanceof SyntaxError) throw new ConfigError('the webhook secret is not JSON');
    throw error;
  }
  const parsed = WebhookSecrets.safeParse(json);
  if (!parsed.success) {
    // Paths only: an issue message must never carry a secret value into the log.
    const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new ConfigError(`the webhook secret does not have the documented shape (at ${paths})`);
  }
  const perTenant = Object.hasOwn(parsed.data, provider) ? parsed.data[provider] : undefined;
  const entry = perTenant && Object.hasOwn(perTenant, tenantId) ? perTenant[tenantId] : undefined;
  if (entry === undefined) throw new UnknownTenantError(tenantId);
  return typeof entry === 'string' ? [entry] : entry;
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

const parseJson = (payload: Uint8Array): unknown => {
  try {
    return JSON.parse(utf8.decode(payload));
  } catch {
    throw new MalformedWebhookError('the body is not UTF-8 JSON');
  }
};

/**
 * Receives one webhook delivery of a payment provider for one tenant.
 *
 * 1. Know the provider and the tenant, and verify the signature over the raw bytes with the
 *    tenant's secret(s): nothing unverified is parsed, let alone acted on.
 * 2. Normalise the body into events; a payment event becomes a `Payment`.
 * 3. Per payment event not seen before: enqueue the payment, then record the event id.
 *    Events that are not payments are acknowledged and logged.
 * A redelivered event (providers retry for days, in any order) is acknowledged and dropped.
 * @throws UnknownProviderError, UnknownTenantError, InvalidSignatureError, MalformedWebhookError
 */
export const receiveWebhook = async (
  deps: PaymentWebhookDeps,
  delivery: WebhookDelivery,
): Promise<WebhookResult> => {
  const provider = webhookProvider(delivery.provider);
  if (!deps.tenants.has(delivery.tenantId)) throw new UnknownTenantError(delivery.tenantId);
  const secrets = await signingSecrets(deps, delivery.provider, delivery.tenantId);
  provider.verify({ headers: delivery.headers, payload: delivery.payload }, secrets, deps.clock.now());
  const events = provider.events(parseJson(delivery.payload), delivery.tenantId);

  const result: WebhookResult = { events: events.length, enqueued: 0, duplicates: 0, ignored: 0 };
  const context = { tenantId: delivery.tenantId, provider: delivery.provider };
  for (const event of events) {
    const { payment } = event;
    if (!payment) {
      result.ignored += 1;
      deps.logger.info('webhook event ignored', {
        ...context,
        eventId: event.eventId,
        type: event.type,
        why: event.ignoredBecause,
      });
      continue;
    }
    if (await deps.ledger.hasEvent(delivery.tenantId, delivery.provider, event.eventId)) {
      result.duplicates += 1;
      deps.logger.info('webhook event already handled', { ...context, eventId: event.eventId });
      continue;
    }
    // Enqueue first, then mark the event handled. A crash in between leaves the event unmarked:
    // the provider redelivers it and it is enqueued again, which reconcile absorbs because it is
    // idempotent by payment id. Marking first would turn the same crash into a payment that is
    // acknowledged, marked and never enqueued: lost.
    const messageId = await deps.queue.enqueue(payment);
    await deps.ledger.recordEvent({
      tenantId: delivery.tenantId,
      provider: delivery.provider,
      eventId: event.eventId,
      type: event.type,
      paymentId: payment.paymentId,
      receivedAt: deps.clock.now().toISOString(),
    });
    result.enqueued += 1;
    deps.logger.info('payment enqueued', {
      ...context,
      eventId: event.eventId,
      paymentId: payment.paymentId,
      messageId,
    });
  }
  return result;
};

/** The HTTP request as a delivery: lower-case header names, the body's bytes as they were signed. */
export const deliveryFrom = (event: WebhookHttpEvent): WebhookDelivery => ({
  provider: event.pathParameters.provider,
  tenantId: event.pathParameters.tenant,
  headers: Object.fromEntries(
    Object.entries(event.headers).map(([name, value]) => [name.toLowerCase(), value]),
  ),
  payload: event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64')
    : Buffer.from(event.body ?? '', 'utf8'),
});

const jsonResponse = (statusCode: number, body: unknown): HttpResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Typed errors the caller may learn about, by name; everything else is a 500 that says nothing. */
const REFUSALS = new Map<string, { statusCode: number; message: string }>([
  ['InvalidSignatureError', { statusCode: 401, message: 'unauthorized' }],
  ['UnknownTenantError', { statusCode: 404, message: 'not found' }],
  ['UnknownProviderError', { statusCode: 404, message: 'not found' }],
  ['MalformedWebhookError', { statusCode: 400, message: 'bad request' }],
]);

/**
 * The one place errors become HTTP responses. The body is a fixed word per status: no error
 * message, stack or detail reaches the caller (the log has them).
 */
export const httpErrorResponses = (logger: Logger): MiddlewareObj<unknown, HttpResponse> => ({
  onError: async (request) => {
    const error = request.error ?? new Error('unknown failure');
    const refusal = REFUSALS.get(error.name);
    if (refusal) {
      logger.warn('webhook refused', {
        statusCode: refusal.statusCode,
        error: error.name,
        reason: error.message,
      });
      request.response = jsonResponse(refusal.statusCode, { message: refusal.message });
      return;
    }
    logger.error('webhook failed', error);
    request.response = jsonResponse(500, { message: 'internal error' });
  },
});

const parseRequest = (event: unknown): WebhookHttpEvent => {
  const parsed = WebhookHttpEvent.safeParse(event);
  if (!parsed.success) throw new MalformedWebhookError('the request has no provider, tenant or body');
  return parsed.data;
};

export const makeHandler = (deps: PaymentWebhookDeps) =>
  middy<unknown, HttpResponse>()
    .use(injectLambdaContext(deps.logger))
    .use(httpErrorResponses(deps.logger))
    .handler(async (event) => {
      const delivery = deliveryFrom(parseRequest(event));
      const result = await receiveWebhook(deps, delivery);
      deps.logger.info('webhook received', {
        tenantId: delivery.tenantId,
        provider: delivery.provider,
        ...result,
      });
      return jsonResponse(200, { received: true, ...result });
    });
