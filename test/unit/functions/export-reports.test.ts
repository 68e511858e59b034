import { Logger } from '@aws-lambda-powertools/logger';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type ExportReportsDeps, makeHandler } from '../../../functions/export-reports/export-reports';
import { S3BlobStore } from '../../../shared/adapters/s3/s3-blob-store';
import type { Account, Invoice } from '../../../shared/domain/account';
import type { AccountWithInvoices } from '../../../shared/ports/account-store';
import { FixedClock } from '../../../shared/ports/clock';
import { anAccount, anInvoice, tenants } from '../../support/builders';

const BUCKET = 'arrears-reports-123456789012';
const HEADER =
  'tenant_id,account_id,currency,current,d1_30,d31_60,d61_90,d90_plus,total,oldest_due_date,cycle_status,rung';
// 03:30 UTC on 20 March: still the 19th in New York (acme), already the 20th in Berlin (northwind).
const NOW = '2026-03-20T03:30:00Z';

const s3 = mockClient(S3Client);

const context = {
  functionName: 'export-reports',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:export-reports',
  memoryLimitInMB: '512',
  awsRequestId: '9d1e2f3a-7b61-11e6-9a41-93e8deadbeef',
  logGroupName: '/aws/lambda/export-reports',
  logStreamName: '2026/03/20/[$LATEST]abcdef',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

/** The scheduler's event (EventBridge Scheduler passes the schedule's input; a rule passes this). */
const scheduledEvent = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: NOW,
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/arrears-export-reports'],
  detail: {},
};

const portfolio = (data: Record<string, { account: Account; invoices: Invoice[] }[]>) => ({
  listAccounts: vi.fn(async function* (tenantId: string) {
    for (const { account } of data[tenantId] ?? []) yield account;
  }),
  getAccountsWithInvoices: vi.fn(async (tenantId: string, accountIds: readonly string[]) => {
    const found = new Map<string, AccountWithInvoices>();
    for (const entry of data[tenantId] ?? []) {
      if (accountIds.includes(entry.account.accountId)) found.set(entry.account.accountId, entry);
    }
    return found;
  }),
});

const depsWith = (store: ReturnType<typeof portfolio>): ExportReportsDeps => ({
  clock: new FixedClock(NOW),
  logger: new Logger({ serviceName: 'export-reports', logLevel: 'SILENT' }),
  tenants,
  store,
  blobs: new S3BlobStore(new S3Client({ region: 'us-east-1' })),
  buckets: { reports: BUCKET },
});

const acmeData = () => {
  const b = anAccount({ accountId: 'B-2', balances: { USD: 80_000, EUR: 5_000 } });
  const a = anAccount({ accountId: 'A-1', balances: { USD: 40_000 } });
  const settled = anAccount({
    accountId: 'C-3',
    balances: {},
    oldestDueDate: undefined,
    openInvoiceCount: 0,
  });
  return [
    {
      account: b,
      invoices: [
        anInvoice({ accountId: 'B-2', invoiceId: 'B1', dueDate: '2025-12-01', openAmount: 80_000 }), // 108 days
        anInvoice({
          accountId: 'B-2',
          invoiceId: 'B2',
          currency: 'EUR',
          dueDate: '2026-03-19',
          openAmount: 5_000,
        }),
      ],
    },
    {
      account: a,
      invoices: [anInvoice({ accountId: 'A-1', invoiceId: 'A1', dueDate: '2026-02-17', openAmount: 40_000 })], // 30 days
    },
    { account: settled, invoices: [] },
  ];
};

describe('export-reports', () => {
  beforeEach(() => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
  });

  it('writes one aging CSV per tenant, dated by the creditor, and returns a summary', async () => {
    const store = portfolio({ acme: acmeData() });

    const result = await makeHandler(depsWith(store))(scheduledEvent, context);

    expect(result).toEqual({
      tenants: 3,
      rows: 3,
      keys: [
        'reports/aging/dt=2026-03-19/tenant=acme/aging.csv',
        'reports/aging/dt=2026-03-20/tenant=northwind/aging.csv',
        'reports/aging/dt=2026-03-20/tenant=globex/aging.csv',
      ],
    });
    expect(s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input)).toEqual([
      {
        Bucket: BUCKET,
        Key: 'reports/aging/dt=2026-03-19/tenant=acme/aging.csv',
        Body: [
          HEADER,
          'acme,A-1,USD,0.00,400.00,0.00,0.00,0.00,400.00,2026-02-17,,',
          'acme,B-2,EUR,50.00,0.00,0.00,0.00,0.00,50.00,2026-03-19,,',
          'acme,B-2,USD,0.00,0.00,0.00,0.00,800.00,800.00,2025-12-01,,',
          '',
        ].join('\n'),
        ContentType: 'text/csv; charset=utf-8',
      },
      {
        Bucket: BUCKET,
        Key: 'reports/aging/dt=2026-03-20/tenant=northwind/aging.csv',
        Body: `${HEADER}\n`,
        ContentType: 'text/csv; charset=utf-8',
      },
      {
        Bucket: BUCKET,
        Key: 'reports/aging/dt=2026-03-20/tenant=globex/aging.csv',
        Body: `${HEADER}\n`,
        ContentType: 'text/csv; charset=utf-8',
      },
    ]);
    // The settled account is listed but its invoices are never read.
    expect(store.getAccountsWithInvoices.mock.calls.flatMap(([, ids]) => ids)).toEqual(['B-2', 'A-1']);
  });

  it('exports only the tenants named, and writes the same object again on a re-run', async () => {
    const handler = makeHandler(depsWith(portfolio({ acme: acmeData() })));

    const first = await handler({ tenantIds: ['acme'] }, context);
    const second = await handler({ tenantIds: ['acme'] }, context);

    expect(first).toEqual(second);
    expect(first.keys).toEqual(['reports/aging/dt=2026-03-19/tenant=acme/aging.csv']);
    const [one, two] = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(one).toEqual(two);
  });

  it('reads accounts in batches of 50', async () => {
    const many = Array.from({ length: 120 }, (_, i) => {
      const accountId = `ACC-${String(i).padStart(3, '0')}`;
      return {
        account: anAccount({ accountId }),
        invoices: [anInvoice({ accountId, dueDate: '2026-03-01', openAmount: 100 })],
      };
    });
    const store = portfolio({ acme: many });

    const result = await makeHandler(depsWith(store))({ tenantIds: ['acme'] }, context);

    expect(result.rows).toBe(120);
    expect(store.getAccountsWithInvoices.mock.calls.map(([, ids]) => ids.length)).toEqual([50, 50, 20]);
  });
});
