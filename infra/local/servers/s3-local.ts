import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import S3rver from 's3rver';

/** A running local S3 server (s3rver) whose buckets and objects live in a directory on disk. */
export interface S3Local {
  /** `http://127.0.0.1:<port>`: pass it to {@link localS3ClientConfig}. */
  endpoint: string;
  /** Creates the bucket unless it already exists (buckets persist in the directory like objects). */
  createBucket(name: string): Promise<void>;
  /**
   * Calls `listener` after every object created or removed through the S3 API, with the
   * notification event S3 would send (one record per event). Returns the unsubscribe function.
   */
  onObjectEvent(listener: (event: S3Event) => void): () => void;
  stop(): Promise<void>;
}

export interface S3LocalOptions {
  /** Where buckets and objects are kept, so that successive runs see the same objects. */
  directory: string;
  /** Defaults to a free port chosen by the operating system. */
  port?: number;
}

/**
 * s3rver verifies SigV4 signatures against its one built-in account, so local clients sign with
 * exactly these keys rather than with arbitrary dummies.
 */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

const LOCAL_REGION = 'us-east-1';

/**
 * The S3 client settings that work against s3rver; the local runtime uses exactly these.
 *
 * Since v3.729 the SDK adds CRC32 checksums by default and sends streaming uploads as
 * `aws-chunked` bodies with a trailing checksum. s3rver predates both: it accepts such a request
 * and stores the chunk framing as part of the object. `WHEN_REQUIRED` restores plain (still signed)
 * uploads and stops the client from expecting checksums s3rver never returns. Path-style
 * addressing because a bucket cannot be a subdomain of 127.0.0.1.
 */
export const localS3ClientConfig = (endpoint: string): S3ClientConfig => ({
  region: LOCAL_REGION,
  endpoint,
  forcePathStyle: true,
  credentials: { ...S3RVER_CREDENTIALS },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

/**
 * Starts s3rver on 127.0.0.1 with its logging silenced.
 *
 * 1. Creates the directory if needed (s3rver keeps each bucket as a folder in it).
 * 2. Listens on the given port, or on a free one.
 * 3. `stop()` also drops idle keep-alive sockets: the SDK keeps connections open, and
 *    `server.close()` alone would wait for them to time out.
 */
export const startS3Local = async (options: S3LocalOptions): Promise<S3Local> => {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    // Buckets as subdomains of the endpoint are never used locally (path style only).
    vhostBuckets: false,
  });
  const address: AddressInfo = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  // Not in @types/s3rver: the http.Server that run() started, and s3rver's Koa event emitter.
  const internals = server as unknown as S3rverInternals;

  return {
    endpoint,
    createBucket: async (name) => {
      const client = new S3Client(localS3ClientConfig(endpoint));
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } catch (error) {
        const code = (error as Error).name;
        if (code !== 'BucketAlreadyExists' && code !== 'BucketAlreadyOwnedByYou') throw error;
      } finally {
        client.destroy();
      }
    },
    onObjectEvent: (listener) => {
      const forward = (event: S3Event) => listener(asAwsNotification(event));
      internals.on('event', forward);
      return () => {
        internals.off('event', forward);
      };
    },
    stop: async () => {
      const closed = server.close();
      internals.httpServer.closeAllConnections();
      await closed;
    },
  };
};

interface S3rverInternals {
  httpServer: Server;
  on(name: 'event', listener: (event: S3Event) => void): unknown;
  off(name: 'event', listener: (event: S3Event) => void): unknown;
}

/**
 * s3rver's event differs from S3's in two ways a handler would notice: S3 URL-encodes the object
 * key (form style: space as `+`), and the bucket ARN is `arn:aws:s3:::name`.
 */
const asAwsNotification = (event: S3Event): S3Event => ({
  Records: event.Records.map((record) => ({
    ...record,
    s3: {
      ...record.s3,
      bucket: { ...record.s3.bucket, arn: `arn:aws:s3:::${record.s3.bucket.name}` },
      object: { ...record.s3.object, key: encodeNotificationKey(record.s3.object.key) },
    },
  })),
});

const encodeNotificationKey = (key: string): string =>
  encodeURIComponent(key).replaceAll('%2F', '/').replaceAll('%20', '+');
