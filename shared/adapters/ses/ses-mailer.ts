import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { Mailer, OutgoingEmail } from '../../ports/mailer';

/** Mailer over SES v2 (`SendEmail`, simple content, UTF-8). */
export class SesMailer implements Mailer {
  constructor(private readonly client: SESv2Client) {}

  async send(email: OutgoingEmail): Promise<string> {
    const response = await this.client.send(
      new SendEmailCommand({
        FromEmailAddress: email.from,
        Destination: { ToAddresses: [email.to] },
        ...(email.replyTo ? { ReplyToAddresses: [email.replyTo] } : {}),
        Content: {
          Simple: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: email.text, Charset: 'UTF-8' } },
            ...(email.headers
              ? { Headers: Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })) }
              : {}),
          },
        },
        ...(email.tags
          ? { EmailTags: Object.entries(email.tags).map(([Name, Value]) => ({ Name, Value })) }
          : {}),
      }),
    );
    if (!response.MessageId) throw new Error('SES accepted the e-mail but returned no message id');
    return response.MessageId;
  }
}
