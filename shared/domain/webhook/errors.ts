/**
 * The request is not signed by the provider with a secret we hold (missing or malformed header,
 * no matching signature, timestamp outside the tolerance). `reason` is for the log only: the
 * caller learns nothing but "unauthorized".
 */
export class InvalidSignatureError extends Error {
  override readonly name = 'InvalidSignatureError';
  constructor(readonly reason: string) {
    super(`invalid webhook signature: ${reason}`);
  }
}

/** The (authentic) body is not the JSON the provider documents. */
export class MalformedWebhookError extends Error {
  override readonly name = 'MalformedWebhookError';
}

/** No provider of that name is supported. */
export class UnknownProviderError extends Error {
  override readonly name = 'UnknownProviderError';
  constructor(readonly provider: string) {
    super(`unknown payment provider "${provider}"`);
  }
}
