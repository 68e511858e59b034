/**
 * The CDK app: one Arrears stack per region of the deployment config, checked by cdk-nag.
 *
 *   npx cdk synth                                  # infra/config/deployment.json
 *   npx cdk synth -c arrears:config=path/to.json   # another config
 *
 * Synthesis is offline: no context lookups, no credentials. The account comes from the config, or
 * from CDK_DEFAULT_ACCOUNT when the CLI has credentials; without either the stacks stay
 * account-agnostic.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  DeploymentConfigError,
  defaultDeploymentConfigFile,
  loadDeploymentConfig,
} from './config/deployment';
import { addArrearsStacks } from './stacks/arrears-stack';

const CONFIG_CONTEXT_KEY = 'arrears:config';

const app = new App();
try {
  const file: string = app.node.tryGetContext(CONFIG_CONTEXT_KEY) ?? defaultDeploymentConfigFile;
  const config = loadDeploymentConfig(file);
  // cdk-nag 3 is a policy-validation plugin: it runs after synthesis over the whole app and fails
  // the synth on an unacknowledged error. Acknowledgements sit on the narrowest construct.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  addArrearsStacks(app, config, { defaultAccount: process.env.CDK_DEFAULT_ACCOUNT });
  app.synth();
} catch (error) {
  if (!(error instanceof DeploymentConfigError)) throw error;
  // A config problem is the user's to fix: the message names the file and every bad path.
  console.error(error.message);
  process.exitCode = 1;
}
