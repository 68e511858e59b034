import * as z from '../../shared/zod';

/**
 * The SecretString of the secret named by WEBHOOK_SECRET_ARN: JSON, provider name, then tenant
 * id, then that tenant's endpoint signing secret. A list holds several secrets while one is being
 * rotated (any of them verifies; put the new one first and drop the old one after the switch).
 *
 * ```json
 * {
 *   "stripe": { "acme": "whsec_...", "northwind": ["whsec_new...", "whsec_old..."] },
 *   "gocardless": { "acme": "gc-endpoint-secret" }
 * }
 * ```
 * Stripe: the endpoint's `whsec_...` string exactly as the dashboard shows it (it is the HMAC
 * key as is). GoCardless: the webhook endpoint secret. A tenant without an entry for a provider
 * has no endpoint for it (404).
 */
export const WebhookSecrets = z.onFirstUse(() =>
  z.record(
    z.string(),
    z.record(
      z.string(),
      z.union([
        z.string().check(z.minLength(1)),
        z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
      ]),
    ),
  ),
);
export type WebhookSecrets = z.infer<typeof WebhookSecrets>;

/**
 * The part of an API Gateway HTTP API (payload 2.0) request the webhook reads. The route is
 * `POST /webhooks/{provider}/{tenant}`; the body arrives base64-encoded when API Gateway
 * considers it binary (`isBase64Encoded`).
 */
export const WebhookHttpEvent = z.onFirstUse(() =>
  z.looseObject({
    pathParameters: z.object({
      provider: z.string().check(z.minLength(1)),
      tenant: z.string().check(z.minLength(1)),
    }),
    headers: z._default(z.record(z.string(), z.optional(z.string())), {}),
    body: z.optional(z.string()),
    isBase64Encoded: z._default(z.boolean(), false),
  }),
);
export type WebhookHttpEvent = z.infer<typeof WebhookHttpEvent>;

/** What one delivery did (for the log and the 200 body). */
export const WebhookResult = z.onFirstUse(() =>
  z.object({
    events: z.number().check(z.int()),
    enqueued: z.number().check(z.int()),
    duplicates: z.number().check(z.int()),
    ignored: z.number().check(z.int()),
  }),
);
export type WebhookResult = z.infer<typeof WebhookResult>;

/** The HTTP API's response (payload 2.0). */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}
