import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Secrets } from '../../ports/secrets';

export interface SecretsManagerSecretsOptions {
  /**
   * How long a value is reused. Reading once per cold start would keep a warm function on a
   * rotated (or newly added) secret indefinitely; a few minutes bounds that and still spares
   * Secrets Manager one call per request.
   */
  maxAgeMs?: number;
  /** Milliseconds since the epoch (tests pass their own). */
  now?: () => number;
}

/** Secrets from AWS Secrets Manager (`GetSecretValue`, string secrets), cached per secret id. */
export class SecretsManagerSecrets implements Secrets {
  readonly #cache = new Map<string, { value: Promise<string>; readAt: number }>();
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(
    private readonly client: SecretsManagerClient,
    options: SecretsManagerSecretsOptions = {},
  ) {
    this.#maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  get(secretId: string): Promise<string> {
    const now = this.#now();
    const cached = this.#cache.get(secretId);
    if (cached && now - cached.readAt < this.#maxAgeMs) return cached.value;
    // Caching the promise makes concurrent first reads share one call.
    const value = this.#read(secretId);
    this.#cache.set(secretId, { value, readAt: now });
    value.catch(() => {
      if (this.#cache.get(secretId)?.value === value) this.#cache.delete(secretId);
    });
    return value;
  }

  async #read(secretId: string): Promise<string> {
    const response = await this.client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (response.SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
    return response.SecretString;
  }
}
