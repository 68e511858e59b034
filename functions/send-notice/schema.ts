import { z } from 'zod';
import { LadderTask } from '../ladder-evaluate/schema';

/** The input of the SendNotice state: the ladder task plus the rung EvaluateAccount chose. */
export const NoticeTask = LadderTask.extend({ rung: z.number().int().min(0) });
export type NoticeTask = z.infer<typeof NoticeTask>;

export const NoticeResult = z.object({
  sent: z.boolean(),
  /** True when this rung's notice had already gone out (a retry or redelivery). */
  alreadySent: z.boolean().default(false),
  messageId: z.string().optional(),
  reason: z.string(),
});
export type NoticeResult = z.infer<typeof NoticeResult>;
