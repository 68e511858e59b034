import * as z from '../../zod';
import { Payment } from '../account';
import { ExternalId } from '../ids';
import { currencyExponent, isActiveCurrency } from '../money';
import { MalformedWebhookError } from './errors';
import type { WebhookEvent } from './event';

/** Stripe metadata: string values set by whoever created the payment (our checkout, the creditor). */
const Metadata = z.onFirstUse(() => z._default(z.record(z.string(), z.string()), {}));

/** The envelope of every Stripe event (API versions add fields; only these are relied on). */
export const StripeEvent = z.onFirstUse(() =>
  z.looseObject({
    id: z.string().check(z.minLength(1)),
    object: z.literal('event'),
    type: z.string().check(z.minLength(1)),
    /** Unix seconds at which the event happened. */
    created: z.number().check(z.int(), z.positive()),
    data: z.object({ object: z.looseObject({ object: z.string() }) }),
  }),
);
export type StripeEvent = z.infer<typeof StripeEvent>;

export const StripePaymentIntent = z.onFirstUse(() =>
  z.looseObject({
    id: z.string().check(z.minLength(1)),
    object: z.literal('payment_intent'),
    amount: z.number().check(z.int(), z.nonnegative()),
    currency: z.string(),
    metadata: Metadata,
  }),
);

export const StripeCharge = z.onFirstUse(() =>
  z.looseObject({
    id: z.string().check(z.minLength(1)),
    object: z.literal('charge'),
    amount: z.number().check(z.int(), z.nonnegative()),
    currency: z.string(),
    metadata: Metadata,
    payment_intent: z.nullish(z.string()),
  }),
);

/**
 * Event types that mean money arrived. A card payment fires both for the same money; both
 * normalise to the payment intent's id, so reconcile applies it once.
 */
export const STRIPE_PAYMENT_EVENTS: readonly string[] = ['payment_intent.succeeded', 'charge.succeeded'];

/**
 * Stripe's minor unit differs from ISO 4217 for a few currencies: ISK is two-decimal in the API
 * (100 = 1 krona, ISO has no minor unit) and MGA is zero-decimal (ISO has two).
 */
const STRIPE_EXPONENTS: Readonly<Record<string, number>> = { ISK: 2, MGA: 0 };

/** Converts a Stripe `amount` into ISO 4217 minor units of the (upper-case) currency. */
export const stripeAmountToMinorUnits = (amount: number, currency: string): number => {
  const iso = currencyExponent(currency);
  const stripe = STRIPE_EXPONENTS[currency] ?? iso;
  if (stripe === iso) return amount;
  if (stripe < iso) {
    const scaled = amount * 10 ** (iso - stripe);
    if (!Number.isSafeInteger(scaled))
      throw new MalformedWebhookError(`Stripe amount ${amount} ${currency} is too large`);
    return scaled;
  }
  const divisor = 10 ** (stripe - iso);
  if (amount % divisor !== 0) {
    throw new MalformedWebhookError(
      `Stripe amount ${amount} ${currency} has a fraction of the currency's minor unit`,
    );
  }
  return amount / divisor;
};

const parseOrThrow = <S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.infer<S> => {
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new MalformedWebhookError(`${what} is malformed: ${problems.join('; ')}`);
  }
  return result.data;
};

/** A metadata id we can key on, or undefined (an invalid one still reaches a person as the reference). */
const externalId = (value: string | undefined): string | undefined => {
  const parsed = ExternalId.safeParse(value);
  return parsed.success ? parsed.data : undefined;
};

const nonBlank = (value: string | undefined): string | undefined =>
  value?.trim() ? value.trim() : undefined;

/**
 * Normalises one Stripe event. Payment events become a {@link Payment}: the payment intent's id
 * (the charge's intent for `charge.succeeded`), the integer `amount` in minor units, the currency
 * upper-cased, and the metadata `account_id`, `invoice_id` and `reference` carried along.
 * @throws MalformedWebhookError when the body is not a Stripe event of the documented shape.
 */
export const stripeEvents = (body: unknown, tenantId: string): WebhookEvent[] => {
  const event = parseOrThrow(StripeEvent, body, 'the Stripe event');
  if (!STRIPE_PAYMENT_EVENTS.includes(event.type)) {
    return [{ eventId: event.id, type: event.type, ignoredBecause: 'not a payment event' }];
  }
  const object =
    event.type === 'payment_intent.succeeded'
      ? parseOrThrow(StripePaymentIntent, event.data.object, 'the payment intent')
      : parseOrThrow(StripeCharge, event.data.object, 'the charge');
  const paymentId = object.object === 'charge' ? (object.payment_intent ?? object.id) : object.id;
  const currency = object.currency.toUpperCase();
  if (!isActiveCurrency(currency))
    throw new MalformedWebhookError(`"${object.currency}" is not an ISO 4217 currency`);

  const accountId = externalId(object.metadata.account_id);
  const invoiceId = externalId(object.metadata.invoice_id);
  const reference =
    nonBlank(object.metadata.reference) ?? (invoiceId ? undefined : nonBlank(object.metadata.invoice_id));
  const payment = Payment.parse({
    tenantId,
    paymentId,
    channel: 'webhook',
    provider: 'stripe',
    amount: stripeAmountToMinorUnits(object.amount, currency),
    currency,
    receivedAt: new Date(event.created * 1000).toISOString(),
    ...(reference ? { reference } : {}),
    ...(accountId ? { accountId } : {}),
    ...(invoiceId ? { invoiceId } : {}),
  });
  return [{ eventId: event.id, type: event.type, payment }];
};
