import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { InvoiceFormat } from '../../../shared/ingest/format';
import type { InvoiceRow } from '../../../shared/ingest/invoice-row';
import {
  collectInvoiceFile,
  type InvoiceBatch,
  type ParseInvoiceFileOptions,
} from '../../../shared/ingest/parse-invoice-file';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/invoices');

export const fixtureBytes = (name: string): Buffer => readFileSync(join(FIXTURES, name));

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A body that hands over `bytes` in chunks of `chunkSize` (all at once by default). */
export const bodyOf = (bytes: Buffer | string, chunkSize?: number): Readable => {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const chunks: Buffer[] = [];
  const size = chunkSize ?? Math.max(1, buffer.length);
  for (let offset = 0; offset < buffer.length; offset += size)
    chunks.push(buffer.subarray(offset, offset + size));
  return Readable.from(chunks, { objectMode: false });
};

export const parseBytes = (
  bytes: Buffer | string,
  format: Partial<InvoiceFormat> = {},
  options: ParseInvoiceFileOptions & { chunkSize?: number; fileName?: string; size?: number | null } = {},
) => {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const { chunkSize, fileName, size, ...parseOptions } = options;
  return collectInvoiceFile(
    {
      body: bodyOf(buffer, chunkSize),
      ...(size === null ? {} : { size: size ?? buffer.length }),
      fileName: fileName ?? 'test.csv',
      format,
    },
    parseOptions,
  );
};

export const parseFixture = (
  name: string,
  format: Partial<InvoiceFormat> = {},
  options: ParseInvoiceFileOptions & { chunkSize?: number } = {},
) => parseBytes(fixtureBytes(name), format, { ...options, fileName: name });

/** Every row of the batches, in file order. */
export const rowsOf = (batches: readonly InvoiceBatch[]): InvoiceRow[] =>
  batches
    .flatMap((batch) => batch.accounts.flatMap((account) => account.rows))
    .sort((a, b) => a.line - b.line);

export const HEADER =
  'customerId,customerName,email,phone,country,invoiceId,type,currency,amount,issueDate,dueDate';

/** A valid CSV row for HEADER; override columns by name. */
export const csvRow = (fields: Partial<Record<string, string>> = {}): string => {
  const base: Record<string, string> = {
    customerId: 'C-1',
    customerName: 'Acme GmbH',
    email: 'ap@acme.example',
    phone: '',
    country: 'DE',
    invoiceId: 'INV-1',
    type: '',
    currency: 'EUR',
    amount: '10.00',
    issueDate: '2026-01-01',
    dueDate: '2026-01-31',
    ...fields,
  };
  return HEADER.split(',')
    .map((column) => base[column] ?? '')
    .join(',');
};
