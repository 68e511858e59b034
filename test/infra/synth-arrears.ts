import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type DeploymentConfig, loadDeploymentConfig } from '../../infra/config/deployment';
import { repoRoot } from '../../infra/constructs/lambda-bundle';
import { type ArrearsStack, addArrearsStacks } from '../../infra/stacks/arrears-stack';

/** The feature flags and settings of cdk.json, so tests synthesize what `cdk synth` does. */
export const cdkContext: Record<string, unknown> = JSON.parse(
  readFileSync(join(repoRoot, 'cdk.json'), 'utf8'),
).context;

/** Every function points at this file: NodejsFunction needs an entry that exists, even unbundled. */
export const FIXTURE_ENTRY = 'test/infra/fixtures/handler.ts';

export interface SynthesizedArrears {
  app: App;
  stacks: ArrearsStack[];
  assembly: CloudAssembly;
}

/**
 * The app as infra/app.ts builds it (cdk-nag registered), with bundling skipped: the templates are
 * the same apart from asset hashes, and synthesis takes seconds instead of a minute.
 */
export const synthArrears = (
  config: DeploymentConfig = loadDeploymentConfig(),
  options: { defaultAccount?: string } = {},
): SynthesizedArrears => {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stacks = addArrearsStacks(app, config, {
    entryFor: () => FIXTURE_ENTRY,
    defaultAccount: options.defaultAccount,
  });
  // Throws on an unacknowledged cdk-nag error, like `cdk synth` does.
  const assembly = app.synth();
  return { app, stacks, assembly };
};

/** Removes the cloud assembly `app.synth()` wrote (to a fresh folder under the OS temp dir). */
export const removeSynthOutput = (synthesized: SynthesizedArrears | undefined): void => {
  if (synthesized) rmSync(synthesized.assembly.directory, { recursive: true, force: true });
};
