import * as z from '../../shared/zod';

/**
 * "Object Created" as EventBridge delivers it for the inbox bucket (the stack routes
 * `inbox/*\/invoices/*` to the invoices queue, so each SQS message body is one of these).
 */
export const ObjectCreatedEvent = z.onFirstUse(() =>
  z.object({
    'detail-type': z.literal('Object Created'),
    source: z.literal('aws.s3'),
    detail: z.object({
      bucket: z.object({ name: z.string().check(z.minLength(1)) }),
      object: z.object({
        key: z.string().check(z.minLength(1)),
        size: z.optional(z.number().check(z.int(), z.minimum(0))),
        etag: z.optional(z.string()),
      }),
    }),
  }),
);
export type ObjectCreatedEvent = z.infer<typeof ObjectCreatedEvent>;

export const IngestMessage = ObjectCreatedEvent;
export type IngestMessage = ObjectCreatedEvent;
