import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerSecrets } from '../../../shared/adapters/secrets/secrets-manager-secrets';

const sm = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:arrears/webhooks-AbCdEf';

describe('SecretsManagerSecrets', () => {
  beforeEach(() => sm.reset());

  it('reads a secret once and serves it from the cache until it is older than maxAgeMs', async () => {
    let now = 0;
    sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'v1' }).resolvesOnce({ SecretString: 'v2' });
    const secrets = new SecretsManagerSecrets(new SecretsManagerClient({ region: 'us-east-1' }), {
      maxAgeMs: 1_000,
      now: () => now,
    });

    const first = await Promise.all([secrets.get(ARN), secrets.get(ARN)]);
    now = 999;
    const cached = await secrets.get(ARN);
    now = 1_000;
    const refreshed = await secrets.get(ARN);

    expect([...first, cached, refreshed]).toEqual(['v1', 'v1', 'v1', 'v2']);
    expect(sm.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: ARN },
      { SecretId: ARN },
    ]);
  });

  it('does not cache a failed read', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolvesOnce({ SecretString: '{"stripe":{}}' });
    const secrets = new SecretsManagerSecrets(new SecretsManagerClient({ region: 'us-east-1' }));

    await expect(secrets.get(ARN)).rejects.toThrow('throttled');
    await expect(secrets.get(ARN)).resolves.toBe('{"stripe":{}}');
  });

  it('refuses a binary secret', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });
    const secrets = new SecretsManagerSecrets(new SecretsManagerClient({ region: 'us-east-1' }));
    await expect(secrets.get(ARN)).rejects.toThrow(/has no string value/);
  });
});
