import * as z from '../../zod';
import { ExternalId, IsoTimestamp, TenantId } from '../ids';

/**
 * A notice of one rung in one cycle. SES has no idempotency token, so the record is written as
 * an intent before sending and completed with the message id after: an intent without a message
 * id is in doubt and is reconciled by a person, never sent again blindly.
 */
export const NoticeRecord = z.onFirstUse(() =>
  z.object({
    tenantId: TenantId,
    accountId: ExternalId,
    cycleId: z.string(),
    rung: z.number().check(z.int(), z.minimum(0)),
    rungId: z.string(),
    channel: z.literal('email'),
    to: z.string(),
    subject: z.string(),
    status: z.enum(['intent', 'sent']),
    messageId: z.optional(z.string()),
    createdAt: IsoTimestamp,
    sentAt: z.optional(IsoTimestamp),
  }),
);
export type NoticeRecord = z.infer<typeof NoticeRecord>;
