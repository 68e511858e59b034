import { describe, expect, it } from 'vitest';
import { agingBucket, agingCsv, agingReportKey, agingRows, csvText } from '../../../shared/domain/reports';
import { anAccount, anInvoice } from '../../support/builders';

const AS_OF = '2026-06-30';

describe('agingBucket', () => {
  it('puts each number of days past due in its bucket, edges included', () => {
    const cases: [number, string][] = [
      [-5, 'current'],
      [0, 'current'],
      [1, 'd1_30'],
      [30, 'd1_30'],
      [31, 'd31_60'],
      [60, 'd31_60'],
      [61, 'd61_90'],
      [90, 'd61_90'],
      [91, 'd90_plus'],
      [400, 'd90_plus'],
    ];
    expect(cases.map(([days]) => [days, agingBucket(days)])).toEqual(cases);
  });
});

describe('agingRows', () => {
  it('ages open invoices by their due dates as of the given date, per currency', () => {
    const account = anAccount();
    const invoices = [
      anInvoice({ invoiceId: 'A', dueDate: '2026-07-15', openAmount: 1_000 }), // not yet due
      anInvoice({ invoiceId: 'B', dueDate: '2026-06-30', openAmount: 2_000 }), // due today: current
      anInvoice({ invoiceId: 'C', dueDate: '2026-05-31', openAmount: 3_000 }), // 30 days
      anInvoice({ invoiceId: 'D', dueDate: '2026-05-30', openAmount: 4_000 }), // 31 days
      anInvoice({ invoiceId: 'E', dueDate: '2026-04-01', openAmount: 5_000 }), // 90 days
      anInvoice({ invoiceId: 'F', dueDate: '2026-03-31', openAmount: 6_000 }), // 91 days
      anInvoice({ invoiceId: 'G', dueDate: '2026-01-01', openAmount: 0, status: 'paid' }),
      anInvoice({ invoiceId: 'H', dueDate: '2026-01-01', openAmount: 9_000, status: 'cancelled' }),
      anInvoice({ invoiceId: 'J', currency: 'JPY', dueDate: '2026-06-01', openAmount: 7_500 }), // 29 days
    ];

    expect(agingRows(account, invoices, AS_OF)).toEqual([
      {
        tenantId: 'acme',
        accountId: 'CUST-1',
        currency: 'JPY',
        buckets: { current: 0, d1_30: 7_500, d31_60: 0, d61_90: 0, d90_plus: 0 },
        total: 7_500,
        oldestDueDate: '2026-06-01',
        cycleStatus: undefined,
        rung: undefined,
      },
      {
        tenantId: 'acme',
        accountId: 'CUST-1',
        currency: 'USD',
        buckets: { current: 3_000, d1_30: 3_000, d31_60: 4_000, d61_90: 5_000, d90_plus: 6_000 },
        total: 21_000,
        oldestDueDate: '2026-03-31',
        cycleStatus: undefined,
        rung: undefined,
      },
    ]);
  });

  it('lets open credit notes reduce the current bucket so the total is the balance', () => {
    const rows = agingRows(
      anAccount(),
      [
        anInvoice({ invoiceId: 'A', dueDate: '2026-05-01', openAmount: 10_000 }),
        anInvoice({ invoiceId: 'CN', kind: 'credit_note', dueDate: '2026-06-20', openAmount: 2_500 }),
      ],
      AS_OF,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      buckets: { current: -2_500, d1_30: 0, d31_60: 10_000, d61_90: 0, d90_plus: 0 },
      total: 7_500,
      oldestDueDate: '2026-05-01',
    });
  });

  it('names the cycle status and the rung acted on last', () => {
    const account = anAccount({
      cycle: {
        cycleId: 'c1',
        cycleNumber: 1,
        startedAt: '2026-03-05T00:00:00.000Z',
        overdueSince: '2026-03-01',
        executionName: 'x',
        executionStarted: true,
        rung: 1,
        contacts: [],
        status: 'active',
      },
    });
    const [row] = agingRows(account, [anInvoice()], AS_OF, ['reminder', 'follow-up']);
    expect(row).toMatchObject({ cycleStatus: 'active', rung: 'follow-up' });
  });
});

describe('CSV', () => {
  it('neutralises text that a spreadsheet would run as a formula', () => {
    expect(['=1+1', '+1', '-2', '@SUM(A1)', '\tx', '\rx', 'INV-1', ''].map(csvText)).toEqual([
      "'=1+1",
      "'+1",
      "'-2",
      "'@SUM(A1)",
      "'\tx",
      '"\'\rx"',
      'INV-1',
      '',
    ]);
  });

  it('quotes fields with quotes, commas or line breaks after neutralising them', () => {
    expect(csvText('=HYPERLINK("http://x","a,b")')).toBe('"\'=HYPERLINK(""http://x"",""a,b"")"');
    expect(csvText('line\nbreak')).toBe('"line\nbreak"');
    expect(csvText(undefined)).toBe('');
  });

  it('writes the aging report with plain decimal amounts and neutralised text', () => {
    const account = anAccount({ accountId: '=cmd|calc' });
    const rows = agingRows(
      account,
      [
        anInvoice({ accountId: '=cmd|calc', dueDate: '2026-05-01', openAmount: 123_456 }),
        anInvoice({
          accountId: '=cmd|calc',
          invoiceId: 'CN',
          kind: 'credit_note',
          dueDate: '2026-06-20',
          openAmount: 50,
        }),
        anInvoice({
          accountId: '=cmd|calc',
          invoiceId: 'K',
          currency: 'KWD',
          dueDate: '2026-01-01',
          openAmount: 1_005,
        }),
      ],
      AS_OF,
    );

    expect(agingCsv(rows)).toBe(
      [
        'tenant_id,account_id,currency,current,d1_30,d31_60,d61_90,d90_plus,total,oldest_due_date,cycle_status,rung',
        "acme,'=cmd|calc,KWD,0.000,0.000,0.000,0.000,1.005,1.005,2026-01-01,,",
        "acme,'=cmd|calc,USD,-0.50,0.00,1234.56,0.00,0.00,1234.06,2026-05-01,,",
        '',
      ].join('\n'),
    );
    expect(agingCsv([])).toBe(
      'tenant_id,account_id,currency,current,d1_30,d31_60,d61_90,d90_plus,total,oldest_due_date,cycle_status,rung\n',
    );
  });

  it('keys the report by date and tenant', () => {
    expect(agingReportKey('2026-06-30', 'acme')).toBe('reports/aging/dt=2026-06-30/tenant=acme/aging.csv');
  });
});
