import { describe, expect, it } from 'vitest';
import { type InvoiceRow, planAccountIngest } from '../../../shared/domain/invoice-ingest/plan';
import { rowDigest } from '../../../shared/domain/invoice-ingest/row-digest';
import { anAccount, anInvoice } from '../../support/builders';

const NOW = new Date('2026-03-05T12:00:00Z');

const aRow = (overrides: Partial<InvoiceRow> = {}): InvoiceRow => ({
  line: 2,
  customerId: 'CUST-1',
  contact: { name: 'Dana Debtor', email: 'dana@example.com', timeZone: 'America/New_York' },
  invoiceId: 'INV-1',
  kind: 'invoice',
  status: 'open',
  currency: 'USD',
  amount: 125_000,
  issueDate: '2026-02-01',
  dueDate: '2026-03-01',
  referenceStructured: false,
  ...overrides,
});

const plan = (rows: InvoiceRow[], existing?: Parameters<typeof planAccountIngest>[0]['existing']) =>
  planAccountIngest({
    tenantId: 'acme',
    accountId: 'CUST-1',
    existing,
    rows,
    sourceFile: 'inbox/acme/invoices/f.csv',
    now: NOW,
  });

describe('planAccountIngest', () => {
  it('opens an account with its invoices, derived balances and one audit entry', () => {
    const result = plan([aRow(), aRow({ line: 3, invoiceId: 'INV-2', amount: 500, dueDate: '2026-02-15' })]);
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['created', 'created']);
    expect(result.change?.after).toMatchObject({
      balances: { USD: 125_500 },
      oldestDueDate: '2026-02-15',
      openInvoiceCount: 2,
    });
    expect(result.change?.invoices).toHaveLength(2);
    expect(result.change?.audit).toHaveLength(1);
    expect(result.change?.audit[0]?.reason).toContain('2 created, account opened');
  });

  it('changes nothing when the same row comes again', () => {
    const account = anAccount({ contact: aRow().contact });
    const result = plan([aRow()], { account, invoices: [anInvoice({ digest: rowDigest(aRow()) })] });
    expect(result.change).toBeNull();
    expect(result.outcomes).toEqual([{ line: 2, invoiceId: 'INV-1', outcome: 'unchanged' }]);
  });

  it('stores the row digest, so planning the same rows against the result changes nothing', () => {
    const rows = [aRow(), aRow({ line: 3, invoiceId: 'INV-2', reference: 'RF18539007547034' })];
    const first = plan(rows);
    expect(first.change?.invoices.map((invoice) => invoice.digest)).toEqual(rows.map(rowDigest));
    const again = plan(
      rows.map((row) => ({ ...row, line: row.line + 10 })),
      { account: first.change!.after, invoices: first.change!.invoices },
    );
    expect(again.change).toBeNull();
    expect(again.outcomes.map((outcome) => outcome.outcome)).toEqual(['unchanged', 'unchanged']);
  });

  it('keeps the paid part when an invoice amount changes, and audits before and after', () => {
    const account = anAccount({ contact: aRow().contact, balances: { USD: 25_000 } });
    const partlyPaid = anInvoice({ amount: 125_000, openAmount: 25_000 });
    const result = plan([aRow({ amount: 130_000 })], { account, invoices: [partlyPaid] });
    expect(result.change?.invoices[0]).toMatchObject({ amount: 130_000, openAmount: 30_000, status: 'open' });
    expect(result.change?.after.balances).toEqual({ USD: 30_000 });
    expect(result.change?.audit[0]?.data).toMatchObject({
      updated: [
        {
          invoiceId: 'INV-1',
          before: { amount: 125_000, openAmount: 25_000 },
          after: { amount: 130_000, openAmount: 30_000 },
        },
      ],
      balancesBefore: { USD: 25_000 },
    });
  });

  it('closes a cancelled invoice and the account owes nothing more', () => {
    const account = anAccount({ contact: aRow().contact });
    const result = plan([aRow({ status: 'cancelled' })], {
      account,
      invoices: [anInvoice()],
    });
    expect(result.outcomes[0]?.outcome).toBe('cancelled');
    expect(result.change?.after.balances).toEqual({});
    expect(result.change?.after.oldestDueDate).toBeUndefined();
  });

  it('lets a credit note reduce the balance of its currency', () => {
    const account = anAccount({ contact: aRow().contact });
    const result = plan([aRow({ invoiceId: 'CN-1', kind: 'credit_note', amount: 25_000 })], {
      account,
      invoices: [anInvoice()],
    });
    expect(result.change?.after.balances).toEqual({ USD: 100_000 });
    expect(result.change?.after.openInvoiceCount).toBe(1);
  });

  it('refuses to change the currency of a partly paid invoice', () => {
    const account = anAccount({ contact: aRow().contact });
    const result = plan([aRow({ currency: 'EUR' })], {
      account,
      invoices: [anInvoice({ openAmount: 1_000 })],
    });
    expect(result.outcomes[0]).toMatchObject({ outcome: 'rejected', field: 'currency' });
    expect(result.change).toBeNull();
  });
});
