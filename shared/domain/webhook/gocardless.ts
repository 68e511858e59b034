import * as z from '../../zod';
import { MalformedWebhookError } from './errors';
import type { WebhookEvent } from './event';

export const GoCardlessEvent = z.onFirstUse(() =>
  z.looseObject({
    id: z.string().check(z.minLength(1)),
    created_at: z.string(),
    resource_type: z.string().check(z.minLength(1)),
    action: z.string().check(z.minLength(1)),
    links: z._default(z.record(z.string(), z.string()), {}),
  }),
);
export type GoCardlessEvent = z.infer<typeof GoCardlessEvent>;

/** A GoCardless delivery: a batch of events, in no particular order. */
export const GoCardlessWebhook = z.onFirstUse(() => z.looseObject({ events: z.array(GoCardlessEvent) }));
export type GoCardlessWebhook = z.infer<typeof GoCardlessWebhook>;

/**
 * Normalises a GoCardless delivery into its events. GoCardless events name the payment
 * (`links.payment`) but carry no amount or currency: turning `payments.confirmed` into a
 * {@link Payment} needs a read of the payment from the GoCardless API, which Arrears does not
 * have yet. Until then those events are verified, acknowledged and logged, never guessed.
 * @throws MalformedWebhookError when the body is not a GoCardless delivery.
 */
export const goCardlessEvents = (body: unknown): WebhookEvent[] => {
  const result = GoCardlessWebhook.safeParse(body);
  if (!result.success) {
    throw new MalformedWebhookError(
      `the GoCardless delivery is malformed: ${result.error.issues[0]?.message}`,
    );
  }
  return result.data.events.map((event) => ({
    eventId: event.id,
    type: `${event.resource_type}.${event.action}`,
    ignoredBecause:
      event.resource_type === 'payments'
        ? `GoCardless events carry no amount; payment ${event.links.payment ?? '?'} must be read from the GoCardless API (not supported yet)`
        : 'not a payment event',
  }));
};
