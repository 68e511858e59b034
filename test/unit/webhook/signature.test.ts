import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  InvalidSignatureError,
  verifyGoCardlessSignature,
  verifyStripeSignature,
} from '../../../shared/domain/webhook';
import { FIXTURE_SECRETS, fixtureBytes, fixtureJson, RECEIVED_AT, SIGNED_AT } from '../../fixtures/webhooks';

interface ApiGwEvent {
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

const SECRET = FIXTURE_SECRETS.stripe.acme;
const NOW = new Date(RECEIVED_AT);
const NOW_S = NOW.getTime() / 1000;
const payload = fixtureBytes('stripe/payment_intent.succeeded.json');

const v1 = (secret: string, body: Uint8Array, t: number | string): string =>
  createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${t}.`), body]))
    .digest('hex');

const verify = (header: string | undefined, body: Uint8Array = payload, secrets: string[] = [SECRET]) =>
  verifyStripeSignature({ header, payload: body, secrets, now: NOW });

const refusal = (fn: () => unknown): InvalidSignatureError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidSignatureError) return error;
    throw new Error(`expected InvalidSignatureError, got ${String(error)}`);
  }
  throw new Error('expected the signature to be refused');
};

describe('verifyStripeSignature', () => {
  it('accepts a fixture signed by an independent implementation', () => {
    const event = fixtureJson<ApiGwEvent>('apigw/stripe-payment-intent-succeeded.json');
    expect(verify(event.headers['stripe-signature'], Buffer.from(event.body, 'utf8'))).toEqual({
      timestamp: SIGNED_AT,
    });
  });

  it('verifies the decoded bytes of a base64-encoded body, not the base64 text', () => {
    const event = fixtureJson<ApiGwEvent>('apigw/stripe-charge-succeeded.base64.json');
    expect(event.isBase64Encoded).toBe(true);
    const header = event.headers['stripe-signature'];
    expect(verify(header, Buffer.from(event.body, 'base64'))).toEqual({ timestamp: SIGNED_AT });
    expect(refusal(() => verify(header, Buffer.from(event.body, 'utf8'))).reason).toBe(
      'no signature matches the payload',
    );
  });

  it('accepts any v1 signature, so a secret being rolled by Stripe keeps working', () => {
    const header = `t=${NOW_S},v1=${v1('whsec_old_secret', payload, NOW_S)},v1=${v1(SECRET, payload, NOW_S)}`;
    expect(verify(header)).toEqual({ timestamp: NOW_S });
  });

  it('accepts any of our secrets while we rotate ours', () => {
    const header = `t=${NOW_S},v1=${v1('whsec_next', payload, NOW_S)}`;
    expect(verify(header, payload, [SECRET, 'whsec_next'])).toEqual({ timestamp: NOW_S });
  });

  it('refuses a tampered body', () => {
    const header = `t=${NOW_S},v1=${v1(SECRET, payload, NOW_S)}`;
    const tampered = Buffer.from(payload.toString('utf8').replace('"amount": 125000', '"amount": 125'));
    expect(tampered.equals(payload)).toBe(false);
    expect(refusal(() => verify(header, tampered)).reason).toBe('no signature matches the payload');
  });

  it('refuses a signature made with another secret', () => {
    expect(() => verify(`t=${NOW_S},v1=${v1('whsec_attacker', payload, NOW_S)}`)).toThrow(
      InvalidSignatureError,
    );
  });

  it('refuses a timestamp more than 300 s old and accepts one exactly 300 s old', () => {
    const old = NOW_S - 301;
    expect(refusal(() => verify(`t=${old},v1=${v1(SECRET, payload, old)}`)).reason).toMatch(
      /more than 300 s from now/,
    );
    const edge = NOW_S - 300;
    expect(verify(`t=${edge},v1=${v1(SECRET, payload, edge)}`)).toEqual({ timestamp: edge });
  });

  it('refuses a timestamp more than 300 s in the future and accepts one exactly 300 s ahead', () => {
    const future = NOW_S + 301;
    expect(refusal(() => verify(`t=${future},v1=${v1(SECRET, payload, future)}`)).reason).toMatch(
      /more than 300 s from now/,
    );
    const edge = NOW_S + 300;
    expect(verify(`t=${edge},v1=${v1(SECRET, payload, edge)}`)).toEqual({ timestamp: edge });
  });

  it('refuses a signature of the wrong length without throwing anything but InvalidSignatureError', () => {
    const full = v1(SECRET, payload, NOW_S);
    expect(refusal(() => verify(`t=${NOW_S},v1=${full.slice(0, 62)}`)).name).toBe('InvalidSignatureError');
    expect(refusal(() => verify(`t=${NOW_S},v1=${full}00`)).name).toBe('InvalidSignatureError');
    expect(refusal(() => verify(`t=${NOW_S},v1=${full.slice(0, 63)}`)).name).toBe('InvalidSignatureError');
  });

  it('refuses non-hex signatures, a missing header, a missing timestamp and a header without v1', () => {
    const full = v1(SECRET, payload, NOW_S);
    expect(refusal(() => verify(`t=${NOW_S},v1=${'zz'.repeat(32)}`)).reason).toBe(
      'no signature matches the payload',
    );
    expect(refusal(() => verify(undefined)).reason).toBe('missing Stripe-Signature header');
    expect(refusal(() => verify(`v1=${full}`)).reason).toBe('no valid timestamp');
    expect(refusal(() => verify(`t=${NOW_S},v0=${full}`)).reason).toBe('no v1 signature');
    expect(refusal(() => verify(`t=${NOW_S},t=${NOW_S},v1=${full}`)).reason).toBe('more than one timestamp');
  });

  it('signs the timestamp as the header spells it', () => {
    const spelled = `0${NOW_S}`;
    expect(verify(`t=${spelled},v1=${v1(SECRET, payload, spelled)}`)).toEqual({ timestamp: NOW_S });
    expect(() => verify(`t=${spelled},v1=${v1(SECRET, payload, NOW_S)}`)).toThrow(InvalidSignatureError);
  });
});

describe('verifyGoCardlessSignature', () => {
  const gcSecret = FIXTURE_SECRETS.gocardless.acme;

  it('accepts a fixture signed by an independent implementation', () => {
    const event = fixtureJson<ApiGwEvent>('apigw/gocardless-payments-confirmed.json');
    expect(() =>
      verifyGoCardlessSignature({
        header: event.headers['webhook-signature'],
        payload: Buffer.from(event.body, 'utf8'),
        secrets: [gcSecret],
      }),
    ).not.toThrow();
  });

  it('refuses a tampered body, a wrong length and a missing header', () => {
    const body = fixtureBytes('gocardless/payments.confirmed.json');
    const signature = createHmac('sha256', gcSecret).update(body).digest('hex');
    const verifyWith = (header: string | undefined, bytes: Uint8Array = body) =>
      verifyGoCardlessSignature({ header, payload: bytes, secrets: [gcSecret] });
    expect(() => verifyWith(signature)).not.toThrow();
    expect(() => verifyWith(signature, Buffer.concat([body, Buffer.from(' ')]))).toThrow(
      InvalidSignatureError,
    );
    expect(() => verifyWith(signature.slice(0, 40))).toThrow(InvalidSignatureError);
    expect(() => verifyWith(undefined)).toThrow(InvalidSignatureError);
  });
});
