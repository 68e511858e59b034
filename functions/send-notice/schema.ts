import * as z from '../../shared/zod';
import { LadderTask } from '../ladder-evaluate/schema';

/** The input of the SendNotice state: the ladder task plus the rung EvaluateAccount chose. */
export const NoticeTask = z.onFirstUse(() =>
  z.extend(LadderTask, { rung: z.number().check(z.int(), z.minimum(0)) }),
);
export type NoticeTask = z.infer<typeof NoticeTask>;

export const NoticeResult = z.onFirstUse(() =>
  z.object({
    sent: z.boolean(),
    /** True when this rung's notice had already gone out (a retry or redelivery). */
    alreadySent: z._default(z.boolean(), false),
    messageId: z.optional(z.string()),
    reason: z.string(),
  }),
);
export type NoticeResult = z.infer<typeof NoticeResult>;
