import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { clearStore } from 'aws-ses-v2-local/dist/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSesClientConfig, type SesLocal, startSesLocal } from '../../infra/local/servers/ses-local';

const notice = (to: string, subject: string) =>
  new SendEmailCommand({
    FromEmailAddress: 'collections@agency.test',
    Destination: { ToAddresses: [to] },
    ReplyToAddresses: ['disputes@agency.test'],
    Content: {
      Simple: {
        Subject: { Data: subject, Charset: 'UTF-8' },
        Body: {
          Text: { Data: 'Your balance of EUR 12.50 is overdue.', Charset: 'UTF-8' },
          Html: { Data: '<p>Your balance of EUR 12.50 is overdue.</p>', Charset: 'UTF-8' },
        },
        Headers: [
          { Name: 'List-Unsubscribe', Value: '<mailto:unsubscribe@agency.test?subject=A-1>' },
          { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
        ],
      },
    },
  });

describe('local SES v2 (aws-ses-v2-local) with the SDK v3 client', () => {
  let directory: string;
  let ses: SesLocal;
  let client: SESv2Client;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'arrears-ses-'));
    ses = await startSesLocal({ directory });
    client = new SESv2Client(localSesClientConfig(ses.endpoint));
  });

  afterAll(async () => {
    client?.destroy();
    await ses?.stop();
    clearStore();
    await rm(directory, { recursive: true, force: true });
  });

  it('records a simple email with its custom headers', async () => {
    const sent = await client.send(notice('debtor@example.test', 'Payment reminder'));

    const stored = (await ses.sentEmails()).find((email) => email.messageId === sent.MessageId);

    expect(stored).toMatchObject({
      from: 'collections@agency.test',
      replyTo: ['disputes@agency.test'],
      destination: { to: ['debtor@example.test'], cc: [], bcc: [] },
      subject: 'Payment reminder',
      body: {
        text: 'Your balance of EUR 12.50 is overdue.',
        html: '<p>Your balance of EUR 12.50 is overdue.</p>',
      },
      headers: [
        { name: 'List-Unsubscribe', value: '<mailto:unsubscribe@agency.test?subject=A-1>' },
        { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
      ],
    });
  });

  it('rejects an email without a sender as SES does (BadRequest)', async () => {
    const withoutSender = new SendEmailCommand({
      Destination: { ToAddresses: ['debtor@example.test'] },
      Content: { Simple: { Subject: { Data: 'x' }, Body: { Text: { Data: 'x' } } } },
    });

    await expect(client.send(withoutSender)).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });

  it('serves the web view of sent mail', async () => {
    const page = await fetch(ses.viewerUrl);

    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
  });

  it('keeps sent emails in the directory for a later run', async () => {
    const sent = await client.send(notice('second@example.test', 'Final notice'));
    client.destroy();
    await ses.stop();
    // A new process starts with an empty store: emulate that before starting again.
    clearStore();

    ses = await startSesLocal({ directory });
    client = new SESv2Client(localSesClientConfig(ses.endpoint));
    const emails = await ses.sentEmails();

    expect(emails.map((email) => email.messageId)).toContain(sent.MessageId);
    expect(emails.find((email) => email.messageId === sent.MessageId)?.subject).toBe('Final notice');
  });
});
