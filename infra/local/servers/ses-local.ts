import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import sesServerModule from 'aws-ses-v2-local';
import { getStoreReadonly } from 'aws-ses-v2-local/dist/store';
import { z } from 'zod';

/** One email as aws-ses-v2-local records it (what `GET /store` returns). */
export const StoredEmail = z.object({
  messageId: z.string(),
  from: z.string(),
  replyTo: z.array(z.string()),
  destination: z.object({ to: z.array(z.string()), cc: z.array(z.string()), bcc: z.array(z.string()) }),
  subject: z.string(),
  body: z.object({ html: z.string().optional(), text: z.string().optional() }),
  attachments: z.array(
    z.object({
      content: z.string(),
      contentType: z.string(),
      filename: z.string().optional(),
      size: z.number(),
    }),
  ),
  headers: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
  /** Wall-clock seconds since the epoch when the server received it (not the virtual clock). */
  at: z.number(),
});
export type StoredEmail = z.infer<typeof StoredEmail>;

const StoreResponse = z.object({ emails: z.array(StoredEmail) });

/** A running local SES v2 server (aws-ses-v2-local) and its web view of sent mail. */
export interface SesLocal {
  /** `http://127.0.0.1:<port>`: pass it to {@link localSesClientConfig}. */
  endpoint: string;
  /** The web page listing sent emails. */
  viewerUrl: string;
  /** Every email the server holds, oldest first (read through its `GET /store`). */
  sentEmails(): Promise<StoredEmail[]>;
  stop(): Promise<void>;
}

export interface SesLocalOptions {
  /** Defaults to a free port chosen by the operating system. */
  port?: number;
  /**
   * Where sent emails are kept (`emails.json`) so that a later run still shows them. Without it
   * they live only as long as the process.
   */
  directory?: string;
}

const LOCAL_REGION = 'us-east-1';

/** A CommonJS module: Node's ESM loader hands over its whole `exports`, bundlers its `default`. */
const startSesServer: typeof sesServerModule =
  (sesServerModule as unknown as { default?: typeof sesServerModule }).default ?? sesServerModule;

/**
 * The SES v2 client settings for the local server. It only checks that requests carry an
 * `Authorization: AWS…` header, so any static credentials do.
 */
export const localSesClientConfig = (endpoint: string): SESv2ClientConfig => ({
  region: LOCAL_REGION,
  endpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

/** Requests that change the emails: SES v2 sends, SES v1 actions (POST /), and the web view's "clear". */
const STORE_CHANGING_PATHS = new Set([
  '/v2/email/outbound-emails',
  '/v2/email/outbound-bulk-emails',
  '/',
  '/clear-store',
]);

/**
 * Starts aws-ses-v2-local on 127.0.0.1 (its default is every interface).
 *
 * 1. Loads the emails of earlier runs from `directory`, if given, into the server's store so the
 *    web view shows them too.
 * 2. Listens on the given port, or on a free one.
 * 3. After each request that changed the store, writes it back to `directory`.
 *
 * aws-ses-v2-local keeps one store per process (a module variable), so two servers started in the
 * same process share their emails. It relays mail to a real SMTP server when the environment has
 * `SMTP_TRANSPORT`; the local runtime must not set it.
 */
export const startSesLocal = async (options: SesLocalOptions = {}): Promise<SesLocal> => {
  const file = options.directory === undefined ? undefined : join(options.directory, 'emails.json');
  const store = getStoreReadonly();
  if (file !== undefined) {
    await mkdir(options.directory!, { recursive: true });
    const known = new Set(store.emails.map((email) => email.messageId));
    for (const email of await readEmails(file)) if (!known.has(email.messageId)) store.emails.push(email);
  }

  const server = await startSesServer({ host: '127.0.0.1', port: options.port ?? 0 });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let saving = Promise.resolve();
  if (file !== undefined) {
    server.on('request', (request, response) => {
      if (request.method !== 'POST' || !STORE_CHANGING_PATHS.has(request.url ?? '')) return;
      response.on('finish', () => {
        if (response.statusCode !== 200) return;
        saving = saving.then(() => writeEmails(file, getStoreReadonly().emails));
      });
    });
  }

  return {
    endpoint,
    viewerUrl: `${endpoint}/`,
    sentEmails: async () => {
      const response = await fetch(`${endpoint}/store`);
      if (!response.ok) throw new Error(`aws-ses-v2-local GET /store answered ${response.status}`);
      return StoreResponse.parse(await response.json()).emails;
    },
    stop: async () => {
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      server.closeAllConnections();
      await closed;
      await saving;
    },
  };
};

const readEmails = async (file: string): Promise<StoredEmail[]> => {
  try {
    return z.array(StoredEmail).parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
};

const writeEmails = async (file: string, emails: readonly StoredEmail[]): Promise<void> => {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(emails, null, 2)}\n`);
  await rename(temporary, file);
};
