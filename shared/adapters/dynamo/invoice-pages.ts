/**
 * Where an account's invoices live: a few page items in the account's partition, each holding up
 * to ~8 KB of invoices in a map keyed by invoice id, instead of one item per invoice.
 *
 * Why: a transaction costs per item. DynamoDB Local runs transactions one at a time and spends
 * most of it per item: ingesting a customer with 4 invoices wrote 6 items (account, 4 invoices,
 * audit entry), with pages 3, and replaying the transactions of a real ingest ran ~3x the rows
 * per second. On AWS a transactional write is 2 write units per started KB, so 4 invoices of
 * ~600 bytes cost 8 units as items and 6 on one page.
 *
 * The price: changing one invoice rewrites its page (at most ~8 KB, 16 write units on AWS: the
 * target is kept small for that), and the store reads an existing account's pages before it
 * commits invoices (see DynamoAccountStore). The account's version condition in the same
 * transaction makes that read-modify-write safe: a page only changes together with its account,
 * so if the account is still at the version the change was planned on, so are its pages.
 *
 * This module is pure: which invoices go on which page, and the page items' contents.
 */
import { type Invoice, Invoice as InvoiceSchema } from '../../domain/account';

/**
 * Bytes of invoices a page is filled to before a new one is opened: a dozen typical invoices.
 * Far under DynamoDB's 400 KB item limit (so updates that grow invoices never push a page over
 * it), and small enough that rewriting a page for one changed invoice stays cheap.
 */
export const INVOICE_PAGE_TARGET_BYTES = 8 * 1024;

/** One page: its number and the invoices on it, by id. */
export interface InvoicePage {
  page: number;
  invoices: Map<string, Invoice>;
}

/** An invoice as stored on a page: its tenant, account and id are the page's and the map key. */
type StoredInvoice = Omit<Invoice, 'tenantId' | 'accountId' | 'invoiceId'>;

const stored = (invoice: Invoice): StoredInvoice => {
  const { tenantId: _tenantId, accountId: _accountId, invoiceId: _invoiceId, ...rest } = invoice;
  return rest;
};

/**
 * An estimate of the bytes an invoice takes on a page (its JSON, which is a little more than
 * DynamoDB counts): only compared with {@link INVOICE_PAGE_TARGET_BYTES}, which is 50x below the
 * item limit.
 */
export const invoiceBytes = (invoice: Invoice): number =>
  invoice.invoiceId.length + JSON.stringify(stored(invoice)).length;

const pageBytes = (page: InvoicePage): number => {
  let bytes = 0;
  for (const invoice of page.invoices.values()) bytes += invoiceBytes(invoice);
  return bytes;
};

/**
 * Puts changed invoices onto pages: an invoice already on a page replaces itself there; a new
 * one goes onto the last page while it has room for it, else onto a new page after it.
 * Returns the pages that changed, each with all of its invoices (a page is written whole), and
 * leaves `current` untouched.
 */
export const placeInvoices = (
  current: readonly InvoicePage[],
  changed: readonly Invoice[],
  targetBytes = INVOICE_PAGE_TARGET_BYTES,
): InvoicePage[] => {
  const pages = new Map(current.map((page) => [page.page, page]));
  const pageOf = new Map<string, number>();
  for (const page of current) for (const invoiceId of page.invoices.keys()) pageOf.set(invoiceId, page.page);
  const touched = new Map<number, InvoicePage>();
  const writable = (number: number): InvoicePage => {
    let page = touched.get(number);
    if (!page) {
      page = { page: number, invoices: new Map(pages.get(number)?.invoices) };
      touched.set(number, page);
      pages.set(number, page);
    }
    return page;
  };
  let last = current.reduce((highest, page) => Math.max(highest, page.page), -1);
  let lastBytes = last < 0 ? 0 : pageBytes(pages.get(last)!);
  for (const invoice of changed) {
    const existing = pageOf.get(invoice.invoiceId);
    if (existing !== undefined) {
      const page = writable(existing);
      if (existing === last)
        lastBytes += invoiceBytes(invoice) - invoiceBytes(page.invoices.get(invoice.invoiceId)!);
      page.invoices.set(invoice.invoiceId, invoice);
      continue;
    }
    const bytes = invoiceBytes(invoice);
    if (last < 0 || (lastBytes + bytes > targetBytes && lastBytes > 0)) {
      last += 1;
      lastBytes = 0;
    }
    writable(last).invoices.set(invoice.invoiceId, invoice);
    pageOf.set(invoice.invoiceId, last);
    lastBytes += bytes;
  }
  return [...touched.values()].sort((a, b) => a.page - b.page);
};

/** The page's item attributes besides its key and entity tag. */
export const invoicePageAttributes = (tenantId: string, accountId: string, page: InvoicePage) => ({
  tenantId,
  accountId,
  page: page.page,
  invoices: Object.fromEntries(
    [...page.invoices].map(([invoiceId, invoice]) => [invoiceId, stored(invoice)]),
  ),
});

/** A page item back to its invoices, each parsed with the domain schema. */
export const invoicePageFromItem = (item: Record<string, unknown>): InvoicePage => {
  const { tenantId, accountId, page, invoices } = item;
  if (typeof tenantId !== 'string' || typeof accountId !== 'string' || typeof page !== 'number') {
    throw new Error(`malformed invoice page item ${String(item.pk)}/${String(item.sk)}`);
  }
  const parsed = new Map<string, Invoice>();
  for (const [invoiceId, value] of Object.entries((invoices ?? {}) as Record<string, object>)) {
    parsed.set(invoiceId, InvoiceSchema.parse({ ...value, tenantId, accountId, invoiceId }));
  }
  return { page, invoices: parsed };
};

/** All invoices of the pages, in invoice id order (as items keyed by invoice id used to come). */
export const invoicesOfPages = (pages: readonly InvoicePage[]): Invoice[] =>
  pages
    .flatMap((page) => [...page.invoices.values()])
    .sort((a, b) => (a.invoiceId < b.invoiceId ? -1 : a.invoiceId > b.invoiceId ? 1 : 0));
