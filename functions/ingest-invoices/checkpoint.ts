import * as z from '../../shared/zod';

/**
 * How far the ingest of a large file got when an invocation ran short of time, stored next to
 * the receipt (`….checkpoint.json`). The next invocation parses the file again (rows regroup into
 * the same partitions: same file, same partition count) and applies only the partitions from
 * `nextPartition` on; the counts of the partitions already applied carry over from here.
 */
export const IngestCheckpoint = z.onFirstUse(() =>
  z.object({
    /** sha256 of the file: a checkpoint of other bytes is never used. */
    checksum: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
    partitions: z.number().check(z.int(), z.minimum(1)),
    /** Partitions below this one are applied completely. */
    nextPartition: z.number().check(z.int(), z.minimum(1)),
    applied: z.number().check(z.int(), z.minimum(0)),
    created: z.number().check(z.int(), z.minimum(0)),
    updated: z.number().check(z.int(), z.minimum(0)),
    /** Net totals of the rows applied so far, minor units per currency. */
    totals: z.record(z.string(), z.number().check(z.int())),
    /** Rows the store refused so far (they go into the quarantine file at the end). */
    rejects: z.array(
      z.object({ line: z.number().check(z.int()), field: z.string(), value: z.string(), reason: z.string() }),
    ),
    /** Invocations that worked on the file so far. */
    invocations: z.number().check(z.int(), z.minimum(1)),
    savedAt: z.string(),
  }),
);
export type IngestCheckpoint = z.infer<typeof IngestCheckpoint>;

/** Where the checkpoint of a file lives: next to its receipt. */
export const checkpointKeyFor = (receiptKey: string): string =>
  receiptKey.replace(/\.receipt\.json$/, '.checkpoint.json');
