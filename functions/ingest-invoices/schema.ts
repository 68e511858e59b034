import { z } from 'zod';

/**
 * "Object Created" as EventBridge delivers it for the inbox bucket (the stack routes
 * `inbox/*\/invoices/*` to the invoices queue, so each SQS message body is one of these).
 */
export const ObjectCreatedEvent = z.object({
  'detail-type': z.literal('Object Created'),
  source: z.literal('aws.s3'),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({ key: z.string().min(1), size: z.number().int().min(0).optional(), etag: z.string().optional() }),
  }),
});
export type ObjectCreatedEvent = z.infer<typeof ObjectCreatedEvent>;

/**
 * A continuation of a large file: the invocation that ran short of time re-queues the file
 * with the number of data rows already applied, and the next invocation skips them.
 */
export const IngestContinuation = z.object({
  kind: z.literal('ingest-continuation'),
  bucket: z.string().min(1),
  key: z.string().min(1),
  sha256: z.string().length(64),
  rowsDone: z.number().int().min(0),
});
export type IngestContinuation = z.infer<typeof IngestContinuation>;

export const IngestMessage = z.union([ObjectCreatedEvent, IngestContinuation]);
export type IngestMessage = z.infer<typeof IngestMessage>;
