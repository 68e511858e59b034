import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DeploymentConfigError,
  type DeploymentConfigInput,
  loadDeploymentConfig,
  parseDeploymentConfig,
} from '../../infra/config/deployment';

const validRegion = {
  region: 'eu-west-1',
  scheduleTimeZone: 'Europe/Dublin',
  sender: { identity: 'notices.example.eu' },
};
const valid: DeploymentConfigInput = { stage: 'dev', logRetentionDays: 30, regions: [validRegion] };

const problemsOf = (raw: unknown): string => {
  try {
    parseDeploymentConfig(raw, 'test.json');
  } catch (error) {
    expect(error).toBeInstanceOf(DeploymentConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
};

describe('deployment config', () => {
  it('loads the checked-in example with two regions and fills the defaults', () => {
    const config = loadDeploymentConfig();

    expect(config.regions.map((region) => region.region)).toEqual(['us-east-1', 'eu-west-1']);
    expect(config.stage).toBe('dev');
    expect(config.regions[0]?.agingScanAt).toEqual({ hour: 6, minute: 0 });
    expect(config.regions[0]?.reservedConcurrency).toEqual({});
  });

  it('applies defaults for the optional settings of a region', () => {
    const config = parseDeploymentConfig(valid, 'test.json');

    expect(config.account).toBeUndefined();
    expect(config.regions[0]).toMatchObject({
      agingScanAt: { hour: 6, minute: 0 },
      exportReportsAt: { hour: 2, minute: 0 },
      webhookThrottle: { rateLimit: 50, burstLimit: 100 },
    });
  });

  it('rejects a bad config naming the file and the path of every problem', () => {
    const message = problemsOf({
      stage: 'Prod!',
      account: '1234',
      logRetentionDays: 42,
      alarmEmail: 'not-an-address',
      regions: [
        {
          region: 'mars-north-1a',
          scheduleTimeZone: 'Mars/Olympus_Mons',
          agingScanAt: '24:00',
          sender: { identity: 'no identity' },
          reservedConcurrency: { 'no-such-function': 5 },
        },
      ],
    });

    expect(message).toMatch(/^invalid deployment config test\.json:/);
    expect(message).toContain('stage: must be lower-case letters and digits');
    expect(message).toContain('account: must be a 12-digit AWS account id');
    expect(message).toContain('logRetentionDays: must be one of the CloudWatch Logs retention periods');
    expect(message).toContain('alarmEmail:');
    expect(message).toContain('regions.0.region: must be an AWS region code');
    expect(message).toContain('regions.0.scheduleTimeZone: is not an IANA time zone');
    expect(message).toContain('regions.0.agingScanAt: must be a time of day written HH:MM');
    expect(message).toContain('regions.0.sender.identity: must be a domain');
    expect(message).toContain('regions.0.reservedConcurrency: Unrecognized key: "no-such-function"');
  });

  it('rejects a region listed twice', () => {
    const message = problemsOf({ ...valid, regions: [validRegion, validRegion] });

    expect(message).toContain('regions.1.region: region "eu-west-1" is listed twice');
  });

  it('rejects unknown keys, so a misspelt setting is not silently ignored', () => {
    const message = problemsOf({ ...valid, regions: [{ ...validRegion, agingScanTime: '07:00' }] });

    expect(message).toMatch(/regions\.0.*agingScanTime/);
  });

  it('rejects a config without regions', () => {
    expect(problemsOf({ ...valid, regions: [] })).toContain('regions: must name at least one region');
  });

  it('names the file when it is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arrears-config-'));
    const file = join(dir, 'deployment.json');
    writeFileSync(file, '{ "stage": "dev", }');

    try {
      expect(() => loadDeploymentConfig(file)).toThrow(new RegExp(`deployment config ${file} is not JSON`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the file when it cannot be read', () => {
    expect(() => loadDeploymentConfig('/nonexistent/deployment.json')).toThrow(
      /cannot read deployment config \/nonexistent\/deployment\.json/,
    );
  });
});
