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
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().min(0).optional(),
      etag: z.string().optional(),
    }),
  }),
});
export type ObjectCreatedEvent = z.infer<typeof ObjectCreatedEvent>;

export const IngestMessage = ObjectCreatedEvent;
export type IngestMessage = ObjectCreatedEvent;
