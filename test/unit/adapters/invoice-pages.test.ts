import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type InvoicePage,
  invoiceBytes,
  invoicePageAttributes,
  invoicePageFromItem,
  invoicesOfPages,
  placeInvoices,
} from '../../../shared/adapters/dynamo/invoice-pages';
import type { Invoice } from '../../../shared/domain/account';

const anInvoice = (invoiceId: string, overrides: Partial<Invoice> = {}): Invoice => ({
  tenantId: 'acme',
  accountId: 'C-1',
  invoiceId,
  kind: 'invoice',
  currency: 'EUR',
  amount: 10_000,
  openAmount: 10_000,
  issueDate: '2026-01-01',
  dueDate: '2026-01-31',
  status: 'open',
  source: { file: 'inbox/acme/invoices/jan.csv', line: 2 },
  digest: `d-${invoiceId}`,
  updatedAt: '2026-03-01T10:00:00Z',
  ...overrides,
});

/** The pages after applying the changed ones. */
const apply = (pages: readonly InvoicePage[], changed: readonly InvoicePage[]): InvoicePage[] => {
  const byNumber = new Map(pages.map((page) => [page.page, page]));
  for (const page of changed) byNumber.set(page.page, page);
  return [...byNumber.values()];
};

describe('placeInvoices', () => {
  it('fills the last page up to the target, then opens the next', () => {
    const invoices = Array.from({ length: 10 }, (_, i) => anInvoice(`INV-${i}`));
    const perPage = 3;
    const target = invoiceBytes(invoices[0]!) * perPage;

    const pages = placeInvoices([], invoices, target);

    expect(pages.map((page) => [...page.invoices.keys()].length)).toEqual([3, 3, 3, 1]);
    expect(pages.map((page) => page.page)).toEqual([0, 1, 2, 3]);
  });

  it('rewrites only the page of an updated invoice, with the rest of that page', () => {
    const target = invoiceBytes(anInvoice('INV-0')) * 2;
    const first = placeInvoices(
      [],
      ['INV-0', 'INV-1', 'INV-2', 'INV-3'].map((id) => anInvoice(id)),
      target,
    );
    const paid = anInvoice('INV-2', { openAmount: 0, status: 'paid' });

    const changed = placeInvoices(first, [paid], target);

    expect(changed).toHaveLength(1);
    expect(changed[0]?.page).toBe(1);
    expect([...changed[0]!.invoices.values()]).toEqual([paid, anInvoice('INV-3')]);
    // The pages given are left as they were.
    expect(first[1]?.invoices.get('INV-2')).toEqual(anInvoice('INV-2'));
  });

  it('gives an invoice bigger than the target a page of its own', () => {
    const big = anInvoice('INV-BIG', { reference: 'R'.repeat(5000) });
    const pages = placeInvoices([], [anInvoice('INV-0'), big, anInvoice('INV-1')], 1000);
    expect(pages.map((page) => [...page.invoices.keys()])).toEqual([['INV-0'], ['INV-BIG'], ['INV-1']]);
  });

  it('keeps every invoice exactly once, in its latest form, under any sequence of changes', () => {
    const change = fc.array(
      fc.record({ id: fc.integer({ min: 0, max: 60 }), amount: fc.integer({ min: 1, max: 1e9 }) }),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(
        fc.array(change, { maxLength: 8 }),
        fc.integer({ min: 200, max: 4000 }),
        (changes, target) => {
          let pages: InvoicePage[] = [];
          const latest = new Map<string, Invoice>();
          for (const batch of changes) {
            // A change holds an invoice once (the store refuses repeats), its last form wins here.
            const invoices = new Map(
              batch.map(({ id, amount }) => [
                `INV-${id}`,
                anInvoice(`INV-${id}`, { amount, openAmount: amount }),
              ]),
            );
            pages = apply(pages, placeInvoices(pages, [...invoices.values()], target));
            for (const [id, invoice] of invoices) latest.set(id, invoice);
          }
          const placed = pages.flatMap((page) => [...page.invoices.keys()]);
          expect(placed.length).toBe(new Set(placed).size);
          expect(invoicesOfPages(pages)).toEqual(
            [...latest.values()].sort((a, b) => (a.invoiceId < b.invoiceId ? -1 : 1)),
          );
          // A page grows past the target only by an invoice that alone exceeds what is left of it.
          for (const page of pages) {
            const sizes = [...page.invoices.values()].map(invoiceBytes);
            const total = sizes.reduce((a, b) => a + b, 0);
            if (sizes.length > 1) expect(total - Math.max(...sizes)).toBeLessThanOrEqual(target);
          }
        },
      ),
    );
  });
});

describe('invoice page items', () => {
  it('store each invoice without the tenant, account and id the page gives it, and read back equal', () => {
    const page: InvoicePage = {
      page: 2,
      invoices: new Map([
        ['INV-1', anInvoice('INV-1')],
        ['INV-2', anInvoice('INV-2', { reference: 'RF18539007547034', kind: 'credit_note' })],
      ]),
    };
    const attributes = invoicePageAttributes('acme', 'C-1', page);
    expect(attributes.invoices['INV-1']).not.toHaveProperty('tenantId');
    expect(attributes.invoices['INV-1']).not.toHaveProperty('invoiceId');
    expect(invoicePageFromItem(JSON.parse(JSON.stringify(attributes)))).toEqual(page);
  });

  it('refuses a page whose invoices do not parse', () => {
    const attributes = invoicePageAttributes('acme', 'C-1', {
      page: 0,
      invoices: new Map([['INV-1', anInvoice('INV-1')]]),
    });
    const broken = { ...attributes, invoices: { 'INV-1': { ...attributes.invoices['INV-1'], amount: 1.5 } } };
    expect(() => invoicePageFromItem(broken)).toThrow();
  });
});
