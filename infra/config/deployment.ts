import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { TimeZone } from '../../shared/domain/ids';
import { functionNames } from '../functions';

/**
 * Where and how Arrears is deployed: one stack per region, validated once when the CDK app starts so
 * a typo fails `cdk synth` with the file name and the path of every problem, never a half-built stack.
 * The file is checked in; nothing in it is secret (no credentials, no webhook secrets).
 */

/** The example file checked in next to this module; `cdk synth -c arrears:config=<file>` picks another. */
export const defaultDeploymentConfigFile = fileURLToPath(new URL('./deployment.json', import.meta.url));

/** CloudWatch Logs accepts only these retention periods (days); 9999 means "never expire". */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
  9999,
] as const;

/** `HH:MM`, 24-hour clock, in the region's schedule time zone. */
export const TimeOfDay = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day written HH:MM (00:00 to 23:59)')
  .transform((text) => {
    const [hour, minute] = text.split(':').map(Number) as [number, number];
    return { hour, minute };
  });
export type TimeOfDay = z.output<typeof TimeOfDay>;

export const AwsRegion = z
  .string()
  .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'must be an AWS region code such as eu-west-1');

/** A verified SES identity: a domain (`example.com`) or a single address (`billing@example.com`). */
export const SenderIdentity = z
  .string()
  .regex(
    /^([^@\s]+@)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/i,
    'must be a domain (example.com) or an e-mail address verified in SES',
  );

export const RegionDeployment = z.strictObject({
  region: AwsRegion,
  /** The zone the daily schedules run in, so "06:00" stays 06:00 local across daylight-saving changes. */
  scheduleTimeZone: TimeZone,
  /** When the aging scan starts the day's ladders: early enough that notices go out in business hours. */
  agingScanAt: TimeOfDay.prefault('06:00'),
  /** When yesterday's reports are exported: after the day's activity, before the finance team starts. */
  exportReportsAt: TimeOfDay.prefault('02:00'),
  /** The SES identity notices are sent from in this region (SES identities are regional). */
  sender: z.strictObject({ identity: SenderIdentity }),
  /** Stage throttling of the webhook API: payment gateways retry, so shedding a burst loses nothing. */
  webhookThrottle: z
    .strictObject({
      rateLimit: z.int().positive(),
      burstLimit: z.int().positive(),
    })
    .default({ rateLimit: 50, burstLimit: 100 }),
  /**
   * Reserved concurrency per function. Optional: reserving takes from the account's unreserved pool,
   * which on a new account (limit 10) makes the deployment fail.
   */
  reservedConcurrency: z.partialRecord(z.enum(functionNames), z.int().min(1)).default({}),
});
export type RegionDeployment = z.output<typeof RegionDeployment>;

export const DeploymentConfig = z
  .strictObject({
    /** Part of every stack name and tag (`Arrears-<stage>-<region>`): dev, staging, prod... */
    stage: z
      .string()
      .regex(/^[a-z][a-z0-9]{0,15}$/, 'must be lower-case letters and digits, starting with a letter'),
    /**
     * The AWS account to deploy to. Optional: without it the stacks take CDK_DEFAULT_ACCOUNT when the CLI
     * has credentials, and stay account-agnostic otherwise, so `cdk synth` works offline.
     */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    /** Retention of every log group the stacks create. Logs hold operational data, not the record. */
    logRetentionDays: z.number().refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      message: `must be one of the CloudWatch Logs retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
    }),
    /** Who is told when a dead-letter queue fills or a ladder fails. Without it, alarms still exist. */
    alarmEmail: z.email().optional(),
    regions: z.array(RegionDeployment).min(1, 'must name at least one region'),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.regions.forEach((region, index) => {
      if (seen.has(region.region)) {
        ctx.addIssue({
          code: 'custom',
          path: ['regions', index, 'region'],
          message: `region "${region.region}" is listed twice`,
        });
      }
      seen.add(region.region);
    });
  });
export type DeploymentConfig = z.output<typeof DeploymentConfig>;
export type DeploymentConfigInput = z.input<typeof DeploymentConfig>;

export class DeploymentConfigError extends Error {
  override readonly name = 'DeploymentConfigError';
}

/** Validates a parsed config, naming `source` and the path of every problem in the error. */
export const parseDeploymentConfig = (raw: unknown, source: string): DeploymentConfig => {
  const result = DeploymentConfig.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `  - ${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
      .join('\n');
    throw new DeploymentConfigError(`invalid deployment config ${source}:\n${problems}`);
  }
  return result.data;
};

/** Reads and validates a deployment config file (JSON). */
export const loadDeploymentConfig = (file: string = defaultDeploymentConfigFile): DeploymentConfig => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DeploymentConfigError(`cannot read deployment config ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DeploymentConfigError(`deployment config ${file} is not JSON: ${(error as Error).message}`);
  }
  return parseDeploymentConfig(raw, file);
};
