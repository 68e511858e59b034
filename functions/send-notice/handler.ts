import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SesMailer } from '../../shared/adapters/ses/ses-mailer';
import { awsBase } from '../../shared/runtime/aws';
import { makeHandler } from './send-notice';

export const handler = makeHandler({ ...awsBase('send-notice'), mailer: new SesMailer(new SESv2Client({})) });
