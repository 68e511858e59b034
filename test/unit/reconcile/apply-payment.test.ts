import { describe, expect, it } from 'vitest';
import type { Payment } from '../../../shared/domain/account';
import { applyPayment, normaliseReference } from '../../../shared/domain/reconcile';
import { anInvoice } from '../../support/builders';

const AT = '2026-03-20T15:00:05.000Z';

const aPayment = (overrides: Partial<Payment> = {}): Payment => ({
  tenantId: 'acme',
  paymentId: 'pi_1',
  channel: 'webhook',
  provider: 'stripe',
  amount: 125_000,
  currency: 'USD',
  receivedAt: '2026-03-20T14:59:57.000Z',
  accountId: 'CUST-1',
  invoiceId: 'INV-1',
  ...overrides,
});

describe('applyPayment', () => {
  it('pays the named invoice in full with an exact payment', () => {
    const invoice = anInvoice();
    expect(applyPayment([invoice], aPayment(), AT)).toEqual({
      outcome: 'applied',
      updatedInvoices: [{ ...invoice, openAmount: 0, status: 'paid', updatedAt: AT }],
      allocations: [{ invoiceId: 'INV-1', amount: 125_000 }],
      unapplied: 0,
      reason: 'USD 1,250.00 paid invoice INV-1 in full',
    });
  });

  it('leaves the invoice open with what a partial payment did not cover', () => {
    const result = applyPayment([anInvoice()], aPayment({ amount: 25_000 }), AT);
    expect(result).toMatchObject({
      outcome: 'applied',
      allocations: [{ invoiceId: 'INV-1', amount: 25_000 }],
      unapplied: 0,
      reason: 'USD 250.00 paid invoice INV-1 in part; USD 1,000.00 still open',
    });
    expect(result.updatedInvoices).toEqual([
      expect.objectContaining({ openAmount: 100_000, status: 'open' }),
    ]);
  });

  it('applies what the invoice takes and leaves an overpayment unapplied', () => {
    const result = applyPayment([anInvoice({ openAmount: 100_000 })], aPayment({ amount: 130_000 }), AT);
    expect(result).toMatchObject({
      outcome: 'overpaid',
      allocations: [{ invoiceId: 'INV-1', amount: 100_000 }],
      unapplied: 30_000,
      reason: 'USD 1,000.00 paid invoice INV-1 in full; USD 300.00 overpaid and left unapplied',
    });
    expect(result.updatedInvoices[0]).toMatchObject({ openAmount: 0, status: 'paid' });
  });

  it('matches an open invoice by its printed reference, whatever the spacing and case', () => {
    const invoices = [
      anInvoice(),
      anInvoice({ invoiceId: 'INV-2', reference: 'RF18539007547034', dueDate: '2026-04-01' }),
    ];
    const payment = aPayment({ invoiceId: undefined, reference: 'rf18 5390 0754 7034', amount: 5_000 });
    expect(applyPayment(invoices, payment, AT).allocations).toEqual([{ invoiceId: 'INV-2', amount: 5_000 }]);
    expect(normaliseReference(' rf18 5390\t0754 ')).toBe('RF1853900754');
  });

  it('matches by invoice id written as the reference', () => {
    const payment = aPayment({ invoiceId: undefined, reference: 'inv-1' });
    expect(applyPayment([anInvoice()], payment, AT).allocations).toEqual([
      { invoiceId: 'INV-1', amount: 125_000 },
    ]);
  });

  it('applies nothing when no open invoice has the reference, and says what it looked for', () => {
    const payment = aPayment({ invoiceId: undefined, reference: 'INV-404' });
    expect(applyPayment([anInvoice()], payment, AT)).toEqual({
      outcome: 'unmatched',
      updatedInvoices: [],
      allocations: [],
      unapplied: 125_000,
      reason: 'no open invoice with reference INV-404 for account CUST-1',
    });
  });

  it('falls back to the reference when the named invoice does not exist', () => {
    const payment = aPayment({ invoiceId: 'INV-9', reference: 'INV-1' });
    expect(applyPayment([anInvoice()], payment, AT).allocations).toEqual([
      { invoiceId: 'INV-1', amount: 125_000 },
    ]);
    expect(applyPayment([anInvoice()], aPayment({ invoiceId: 'INV-9' }), AT).reason).toBe(
      'no invoice INV-9 for account CUST-1',
    );
  });

  it('refuses to offset money of another currency', () => {
    expect(applyPayment([anInvoice()], aPayment({ currency: 'EUR' }), AT)).toMatchObject({
      outcome: 'currency_mismatch',
      allocations: [],
      unapplied: 125_000,
      reason: 'payment of EUR 1,250.00 is in EUR, but invoice INV-1 is in USD',
    });
  });

  it('does not pay an invoice that is already paid (a second payment goes to a person)', () => {
    const paid = anInvoice({ openAmount: 0, status: 'paid' });
    expect(applyPayment([paid], aPayment(), AT)).toMatchObject({
      outcome: 'unmatched',
      reason: 'invoice INV-1 of account CUST-1 is paid',
    });
  });

  it('refuses an ambiguous reference and a non-positive amount', () => {
    const invoices = [
      anInvoice({ reference: 'ORDER-7' }),
      anInvoice({ invoiceId: 'INV-2', reference: 'ORDER-7' }),
    ];
    expect(applyPayment(invoices, aPayment({ invoiceId: undefined, reference: 'ORDER-7' }), AT).reason).toBe(
      'reference ORDER-7 matches 2 open invoices of account CUST-1',
    );
    expect(applyPayment([anInvoice()], aPayment({ amount: 0 }), AT).outcome).toBe('unmatched');
  });

  it('never pays a credit note and leaves its input untouched', () => {
    const credit = anInvoice({ invoiceId: 'CN-1', kind: 'credit_note', openAmount: 5_000, amount: 5_000 });
    const frozen = Object.freeze({ ...credit });
    expect(applyPayment([frozen], aPayment({ invoiceId: 'CN-1' }), AT).outcome).toBe('unmatched');
    expect(frozen).toEqual(credit);
  });
});
