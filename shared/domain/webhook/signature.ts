import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidSignatureError } from './errors';

/** How far a Stripe signature's timestamp may be from "now", either way, in seconds. */
export const STRIPE_TOLERANCE_SECONDS = 300;

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

const hmacSha256 = (secret: string, payload: Uint8Array): Buffer =>
  createHmac('sha256', secret).update(payload).digest();

/**
 * Compares a computed MAC with a hex signature from a header in constant time. The length is
 * checked first because `timingSafeEqual` throws on unequal lengths; a length leaks nothing.
 */
export const matchesHex = (expected: Buffer, candidateHex: string): boolean => {
  if (!HEX.test(candidateHex)) return false;
  const candidate = Buffer.from(candidateHex, 'hex');
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
};

export interface StripeSignatureInput {
  /** The `Stripe-Signature` header: `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`. */
  header: string | undefined;
  /** The raw body bytes exactly as received (after undoing API Gateway's base64). */
  payload: Uint8Array;
  /** The endpoint secrets we accept (more than one while we rotate ours). */
  secrets: readonly string[];
  now: Date;
  toleranceSeconds?: number;
}

const parseStripeHeader = (header: string): { timestamp: string; signatures: string[] } => {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined) throw new InvalidSignatureError('more than one timestamp');
      timestamp = value;
    } else if (key === 'v1') {
      signatures.push(value);
    }
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp))
    throw new InvalidSignatureError('no valid timestamp');
  if (signatures.length === 0) throw new InvalidSignatureError('no v1 signature');
  return { timestamp, signatures };
};

/**
 * Verifies a Stripe webhook: HMAC-SHA256 of `${t}.${rawBody}` with the endpoint secret must
 * equal one of the `v1` signatures (Stripe sends one per active secret while one is rolled),
 * and `t` must be within the tolerance of `now` in BOTH directions: stripe-node only rejects
 * old timestamps, but a timestamp far in the future is as much a sign of a forged or replayed
 * request (or a broken clock) as an old one.
 * @returns the signature's timestamp (unix seconds).
 * @throws InvalidSignatureError
 */
export const verifyStripeSignature = (input: StripeSignatureInput): { timestamp: number } => {
  if (!input.header) throw new InvalidSignatureError('missing Stripe-Signature header');
  const { timestamp, signatures } = parseStripeHeader(input.header);
  // The timestamp is signed as the header spells it (leading zeros and all).
  const signed = Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), input.payload]);
  const matched = input.secrets.some((secret) => {
    const expected = hmacSha256(secret, signed);
    return signatures.some((signature) => matchesHex(expected, signature));
  });
  if (!matched) throw new InvalidSignatureError('no signature matches the payload');
  const seconds = Number(timestamp);
  const skewMs = Math.abs(input.now.getTime() - seconds * 1000);
  const tolerance = input.toleranceSeconds ?? STRIPE_TOLERANCE_SECONDS;
  if (skewMs > tolerance * 1000) {
    throw new InvalidSignatureError(`timestamp ${seconds} is more than ${tolerance} s from now`);
  }
  return { timestamp: seconds };
};

export interface GoCardlessSignatureInput {
  /** The `Webhook-Signature` header: hex HMAC-SHA256 of the body. */
  header: string | undefined;
  payload: Uint8Array;
  secrets: readonly string[];
}

/**
 * Verifies a GoCardless webhook. The scheme has no timestamp, so dedupe on the event ids is the
 * only replay guard.
 * @throws InvalidSignatureError
 */
export const verifyGoCardlessSignature = (input: GoCardlessSignatureInput): void => {
  if (!input.header) throw new InvalidSignatureError('missing Webhook-Signature header');
  const signature = input.header.trim();
  const matched = input.secrets.some((secret) => matchesHex(hmacSha256(secret, input.payload), signature));
  if (!matched) throw new InvalidSignatureError('the signature does not match the payload');
};
