import * as z from '../../zod';
import { IsoTimestamp, TenantId } from '../ids';

/**
 * Where an ingested file stands: `processing` from the moment ingest claims it, then `done` or
 * `rejected`. A marker stuck in `processing` means a crash mid-file; rows are idempotent, so the
 * file may be processed again.
 */
export const FileMarkerStatus = z.onFirstUse(() => z.enum(['processing', 'done', 'rejected']));
export type FileMarkerStatus = z.infer<typeof FileMarkerStatus>;

/**
 * Marker of one ingested file, keyed by its content checksum, so the same file delivered twice
 * (S3 and SQS deliver at least once, people upload twice) is ingested once.
 */
export const FileMarker = z.onFirstUse(() =>
  z.object({
    tenantId: TenantId,
    /** Hex SHA-256 of the file's bytes. */
    sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256')),
    /** S3 key of the copy that was first seen. */
    key: z.string().check(z.minLength(1)),
    status: FileMarkerStatus,
    /** S3 key of the ingest receipt (rows taken, rows rejected and why). */
    receiptKey: z.optional(z.string()),
    firstSeenAt: IsoTimestamp,
    completedAt: z.optional(IsoTimestamp),
  }),
);
export type FileMarker = z.infer<typeof FileMarker>;

/** What finishing a file changes on its marker. */
export const FileMarkerCompletion = z.onFirstUse(() =>
  z.object({
    status: z.enum(['done', 'rejected']),
    completedAt: IsoTimestamp,
    receiptKey: z.optional(z.string()),
  }),
);
export type FileMarkerCompletion = z.infer<typeof FileMarkerCompletion>;
