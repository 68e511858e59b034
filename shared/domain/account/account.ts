import * as z from '../../zod';
import { ExternalId, IsoDate, IsoTimestamp, TenantId, TimeZone } from '../ids';
import { Balances, CurrencyCode, MinorUnits } from '../money';

/** Debtor contact data, normalised at ingest (trimmed, lower-case e-mail, E.164 phone). */
export const Contact = z.onFirstUse(() =>
  z.object({
    name: z.string().check(z.minLength(1)),
    email: z.optional(z.string().check(z.email())),
    phone: z.optional(z.string().check(z.regex(/^\+[1-9]\d{6,14}$/, 'must be E.164'))),
    country: z.optional(z.string().check(z.regex(/^[A-Z]{2}$/))),
    /** IANA zone for quiet hours; when unknown, compliance uses every zone the country may mean. */
    timeZone: z.optional(TimeZone),
    locale: z.optional(z.string()),
  }),
);
export type Contact = z.infer<typeof Contact>;

/** Why Arrears must not (or may no longer) contact the debtor. */
export const ContactFlags = z.onFirstUse(() =>
  z.object({
    /** A dispute pauses the whole ladder until it is resolved: pause, never cancel. */
    disputed: z._default(z.boolean(), false),
    /** Written request to stop contact: every rung stops. */
    ceaseContact: z._default(z.boolean(), false),
    /** Opted out of e-mail: no more e-mail notices. */
    emailOptOut: z._default(z.boolean(), false),
  }),
);
export type ContactFlags = z.infer<typeof ContactFlags>;

/** One delinquency cycle: from the first missed due date until the account is current again. */
export const Cycle = z.onFirstUse(() =>
  z.object({
    cycleId: z.string(),
    /** 1 for the account's first cycle; makes cycle ids unique even if a due date comes back. */
    cycleNumber: z.number().check(z.int(), z.minimum(1)),
    startedAt: IsoTimestamp,
    /** Oldest unpaid due date when the cycle started: what makes the cycle unique. */
    overdueSince: IsoDate,
    executionName: z.string(),
    /**
     * Set once StartExecution has succeeded. Until then the account stays in the due index, so a
     * scan that crashed between recording the cycle and starting its ladder finishes the job.
     */
    executionStarted: z._default(z.boolean(), false),
    /** Index of the highest rung acted on so far; -1 before the first. */
    rung: z.number().check(z.int(), z.minimum(-1)),
    lastNoticeAt: z.optional(IsoTimestamp),
    /** Notices sent in this cycle, most recent last: compliance counts contacts from it. */
    contacts: z._default(z.array(IsoTimestamp), []),
    /**
     * `active`: the ladder runs. `stopped`: the ladder ended without a cure (every rung acted on,
     * or contact must stop) and the cycle stays open while money is owed. `cured`: the account
     * became current; only then can a later missed due date open a new cycle.
     */
    status: z.enum(['active', 'cured', 'stopped']),
    curedAt: z.optional(IsoTimestamp),
    endedAt: z.optional(IsoTimestamp),
    endReason: z.optional(z.string()),
  }),
);
export type Cycle = z.infer<typeof Cycle>;

export const Account = z.onFirstUse(() =>
  z.object({
    tenantId: TenantId,
    accountId: ExternalId,
    contact: Contact,
    flags: ContactFlags,
    /** Open amounts per currency, in minor units, derived from the open invoices. */
    balances: Balances,
    /** Oldest due date among open invoices; absent when nothing is open. */
    oldestDueDate: z.optional(IsoDate),
    openInvoiceCount: z.number().check(z.int(), z.minimum(0)),
    cycle: z.optional(Cycle),
    /** Optimistic lock: every write conditions on the version it read. */
    version: z.number().check(z.int(), z.minimum(0)),
    /** Head of this account's audit hash chain. */
    auditSeq: z.number().check(z.int(), z.minimum(0)),
    auditHead: z.string(),
    createdAt: IsoTimestamp,
    updatedAt: IsoTimestamp,
  }),
);
export type Account = z.infer<typeof Account>;

export const InvoiceStatus = z.onFirstUse(() => z.enum(['open', 'paid', 'cancelled']));
export type InvoiceStatus = z.infer<typeof InvoiceStatus>;

export const Invoice = z.onFirstUse(() =>
  z.object({
    tenantId: TenantId,
    accountId: ExternalId,
    invoiceId: ExternalId,
    kind: z.enum(['invoice', 'credit_note']),
    currency: CurrencyCode,
    /** Face amount in minor units; positive for invoices and credit notes alike (kind gives the sign). */
    amount: MinorUnits,
    /** Still owed, in minor units; 0 once paid, cancelled or for a credit note consumed. */
    openAmount: MinorUnits,
    issueDate: IsoDate,
    dueDate: IsoDate,
    status: InvoiceStatus,
    /** Payment reference printed on the invoice (an RF creditor reference or free text). */
    reference: z.optional(z.string()),
    source: z.object({ file: z.string(), line: z.number().check(z.int(), z.minimum(1)) }),
    /** Digest of the content as last ingested: the same row again is a no-op. */
    digest: z.string(),
    updatedAt: IsoTimestamp,
  }),
);
export type Invoice = z.infer<typeof Invoice>;

export const Payment = z.onFirstUse(() =>
  z.object({
    tenantId: TenantId,
    paymentId: z.string().check(z.minLength(1)),
    channel: z.enum(['bank', 'webhook']),
    provider: z.string(),
    amount: MinorUnits,
    currency: CurrencyCode,
    receivedAt: IsoTimestamp,
    reference: z.optional(z.string()),
    payerName: z.optional(z.string()),
    accountId: z.optional(ExternalId),
    /** The invoice the payer says this pays (a gateway's metadata), when it names one. */
    invoiceId: z.optional(ExternalId),
  }),
);
export type Payment = z.infer<typeof Payment>;
