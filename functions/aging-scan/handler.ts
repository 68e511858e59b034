import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnWorkflow } from '../../shared/adapters/sfn/sfn-workflow';
import { EnvNames } from '../../shared/config';
import { awsBase, extraEnv } from '../../shared/runtime/aws';
import { makeHandler } from './aging-scan';

const env = extraEnv(EnvNames.ladderStateMachineArn);

export const handler = makeHandler({
  ...awsBase('aging-scan'),
  workflow: new SfnWorkflow(new SFNClient({}), env[EnvNames.ladderStateMachineArn]),
});
