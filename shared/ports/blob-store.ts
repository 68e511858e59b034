import type { Readable } from 'node:stream';

/** Object storage (the inbox and report buckets). */
export interface BlobStore {
  get(bucket: string, key: string): Promise<{ body: Readable; size: number; etag?: string }>;
  put(bucket: string, key: string, body: string | Uint8Array, contentType: string): Promise<void>;
  /** Uploads a local file by streaming it, so a large quarantine file never sits in memory. */
  putFile(bucket: string, key: string, path: string, contentType: string): Promise<void>;
  /** True when the object exists; lets a redelivered event skip work already done. */
  exists(bucket: string, key: string): Promise<boolean>;
  list(bucket: string, prefix: string): AsyncIterable<string>;
}
