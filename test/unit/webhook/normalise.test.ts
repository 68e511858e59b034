import { describe, expect, it } from 'vitest';
import {
  goCardlessEvents,
  MalformedWebhookError,
  stripeAmountToMinorUnits,
  stripeEvents,
  UnknownProviderError,
  webhookProvider,
} from '../../../shared/domain/webhook';
import { fixtureJson } from '../../fixtures/webhooks';

type Json = Record<string, unknown> & { data: { object: Record<string, unknown> } };

const intentEvent = () => fixtureJson<Json>('stripe/payment_intent.succeeded.json');

describe('stripeEvents', () => {
  it('turns payment_intent.succeeded into a payment with the metadata carried along', () => {
    expect(stripeEvents(intentEvent(), 'acme')).toEqual([
      {
        eventId: 'evt_3R1xYzK2eZvKYlo21a0bC3dE',
        type: 'payment_intent.succeeded',
        payment: {
          tenantId: 'acme',
          paymentId: 'pi_3R1xYzK2eZvKYlo21kQ7mN4p',
          channel: 'webhook',
          provider: 'stripe',
          amount: 125_000,
          currency: 'USD',
          receivedAt: '2026-03-20T14:59:57.000Z',
          accountId: 'CUST-1',
          invoiceId: 'INV-1',
        },
      },
    ]);
  });

  it('gives charge.succeeded the id of its payment intent, so one card payment is one payment', () => {
    const [fromCharge] = stripeEvents(fixtureJson('stripe/charge.succeeded.json'), 'acme');
    const [fromIntent] = stripeEvents(intentEvent(), 'acme');
    expect(fromCharge?.eventId).toBe('evt_3R1xYzK2eZvKYlo21Zq9Wx8V');
    expect(fromCharge?.payment).toEqual(fromIntent?.payment);
  });

  it('acknowledges events that are not payments without a payment', () => {
    expect(stripeEvents(fixtureJson('stripe/customer.created.json'), 'acme')).toEqual([
      {
        eventId: 'evt_1R1xYvK2eZvKYlo2mE4nF5gH',
        type: 'customer.created',
        ignoredBecause: 'not a payment event',
      },
    ]);
  });

  it('keeps an invoice id that cannot be a key as the reference, for a person to read', () => {
    const event = intentEvent();
    event.data.object.metadata = { account_id: 'CUST-1', invoice_id: 'INV#7' };
    const [normalised] = stripeEvents(event, 'acme');
    expect(normalised?.payment).toMatchObject({ accountId: 'CUST-1', reference: 'INV#7' });
    expect(normalised?.payment?.invoiceId).toBeUndefined();
  });

  it('uses the metadata reference when there is one', () => {
    const event = intentEvent();
    event.data.object.metadata = { reference: ' RF18 5390 0754 7034 ' };
    const [normalised] = stripeEvents(event, 'acme');
    expect(normalised?.payment).toMatchObject({ reference: 'RF18 5390 0754 7034' });
    expect(normalised?.payment?.accountId).toBeUndefined();
  });

  it('refuses a payment event without an integer amount or with an unknown currency', () => {
    const fractional = intentEvent();
    fractional.data.object.amount = 12.5;
    expect(() => stripeEvents(fractional, 'acme')).toThrow(MalformedWebhookError);
    const unknown = intentEvent();
    unknown.data.object.currency = 'xts';
    expect(() => stripeEvents(unknown, 'acme')).toThrow(MalformedWebhookError);
    expect(() => stripeEvents({ hello: 'world' }, 'acme')).toThrow(MalformedWebhookError);
  });
});

describe('stripeAmountToMinorUnits', () => {
  it('follows ISO 4217 where Stripe differs from it', () => {
    expect(stripeAmountToMinorUnits(125_000, 'USD')).toBe(125_000);
    expect(stripeAmountToMinorUnits(500, 'JPY')).toBe(500);
    expect(stripeAmountToMinorUnits(5_120, 'KWD')).toBe(5_120);
    // Stripe writes ISK with two decimals (100 = 1 krona); ISO has none.
    expect(stripeAmountToMinorUnits(50_000, 'ISK')).toBe(500);
    expect(() => stripeAmountToMinorUnits(50_050, 'ISK')).toThrow(MalformedWebhookError);
    // Stripe writes MGA without decimals; ISO has two.
    expect(stripeAmountToMinorUnits(1_000, 'MGA')).toBe(100_000);
  });
});

describe('goCardlessEvents', () => {
  it('acknowledges every event of a delivery and says why payments are not enqueued', () => {
    expect(goCardlessEvents(fixtureJson('gocardless/payments.confirmed.json'))).toEqual([
      {
        eventId: 'EV0123ABCD4567',
        type: 'payments.confirmed',
        ignoredBecause:
          'GoCardless events carry no amount; payment PM00ABCD1234EF must be read from the GoCardless API (not supported yet)',
      },
      { eventId: 'EV0123ABCD4568', type: 'mandates.created', ignoredBecause: 'not a payment event' },
    ]);
  });

  it('refuses a body without events', () => {
    expect(() => goCardlessEvents({ event: {} })).toThrow(MalformedWebhookError);
  });
});

describe('webhookProvider', () => {
  it('knows stripe and gocardless and nothing else, not even inherited names', () => {
    expect(webhookProvider('stripe')).toBeDefined();
    expect(webhookProvider('gocardless')).toBeDefined();
    expect(() => webhookProvider('adyen')).toThrow(UnknownProviderError);
    expect(() => webhookProvider('constructor')).toThrow(UnknownProviderError);
  });
});
