import { UnknownProviderError } from './errors';
import type { WebhookEvent } from './event';
import { goCardlessEvents } from './gocardless';
import { verifyGoCardlessSignature, verifyStripeSignature } from './signature';
import { stripeEvents } from './stripe';

/** A webhook request as the provider sent it. */
export interface SignedRequest {
  /** Header names in lower case (HTTP API v2 lower-cases them). */
  headers: Readonly<Record<string, string | undefined>>;
  /** The raw body bytes: signatures are over bytes, never over re-serialised JSON. */
  payload: Uint8Array;
}

/** What Arrears knows about one payment provider's webhooks. */
export interface WebhookProvider {
  /** @throws InvalidSignatureError */
  verify(request: SignedRequest, secrets: readonly string[], now: Date): void;
  /** @throws MalformedWebhookError */
  events(body: unknown, tenantId: string): WebhookEvent[];
}

const providers = new Map<string, WebhookProvider>([
  [
    'stripe',
    {
      verify: (request, secrets, now) =>
        void verifyStripeSignature({
          header: request.headers['stripe-signature'],
          payload: request.payload,
          secrets,
          now,
        }),
      events: stripeEvents,
    },
  ],
  [
    'gocardless',
    {
      verify: (request, secrets) =>
        verifyGoCardlessSignature({
          header: request.headers['webhook-signature'],
          payload: request.payload,
          secrets,
        }),
      events: (body) => goCardlessEvents(body),
    },
  ],
]);

export const webhookProviderNames = (): string[] => [...providers.keys()];

/** @throws UnknownProviderError */
export const webhookProvider = (name: string): WebhookProvider => {
  const provider = providers.get(name);
  if (!provider) throw new UnknownProviderError(name);
  return provider;
};
