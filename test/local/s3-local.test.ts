import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localS3ClientConfig, type S3Local, startS3Local } from '../../infra/local/servers/s3-local';

const bucket = 'arrears-inbox';

describe('local S3 (s3rver) with the SDK v3 client', () => {
  let directory: string;
  let s3: S3Local;
  let client: S3Client;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'arrears-s3-'));
    s3 = await startS3Local({ directory });
    client = new S3Client(localS3ClientConfig(s3.endpoint));
    await s3.createBucket(bucket);
  });

  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it('stores an object and reads it back as a stream, with its metadata', async () => {
    const csv = 'account,amount\nA-1,1250\n';

    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'inbox/t1/invoices/a.csv',
        Body: csv,
        ContentType: 'text/csv',
      }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'inbox/t1/invoices/a.csv' }));
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'inbox/t1/invoices/a.csv' }));

    expect(got.Body).toBeInstanceOf(Readable);
    expect(await got.Body?.transformToString()).toBe(csv);
    expect(head.ContentLength).toBe(Buffer.byteLength(csv));
    expect(head.ContentType).toBe('text/csv');
    expect(head.ETag).toBe(got.ETag);
  });

  it('stores a streamed upload byte for byte (no aws-chunked framing in the object)', async () => {
    const body = Buffer.from('A-2,99\n'.repeat(40_000));
    const stream = Readable.from([body.subarray(0, 70_000), body.subarray(70_000)]);

    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'inbox/t1/invoices/big.csv',
        Body: stream,
        ContentLength: body.length,
      }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'inbox/t1/invoices/big.csv' }));

    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  it('lists by prefix and deletes', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'inbox/t2/bank/x.sta', Body: 'x' }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'inbox/t2/bank/y.sta', Body: 'y' }));

    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'inbox/t2/' }));
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'inbox/t2/bank/x.sta' }));
    const afterDelete = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'inbox/t2/' }));
    const headDeleted = client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'inbox/t2/bank/x.sta' }));

    expect(listed.Contents?.map((object) => object.Key)).toEqual([
      'inbox/t2/bank/x.sta',
      'inbox/t2/bank/y.sta',
    ]);
    expect(afterDelete.Contents?.map((object) => object.Key)).toEqual(['inbox/t2/bank/y.sta']);
    await expect(headDeleted).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('reports a missing key as NoSuchKey', async () => {
    const missing = client.send(new GetObjectCommand({ Bucket: bucket, Key: 'inbox/none.csv' }));

    await expect(missing).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('creating an existing bucket is a no-op', async () => {
    await s3.createBucket(bucket);

    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'inbox/t1/' }));
    expect(listed.KeyCount).toBeGreaterThan(0);
  });

  it('notifies object creation with the key URL-encoded as S3 does', async () => {
    const events: S3Event[] = [];
    const unsubscribe = s3.onObjectEvent((event) => events.push(event));

    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'inbox/t3/invoices/May run.csv', Body: 'a' }),
    );
    unsubscribe();
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'inbox/t3/invoices/later.csv', Body: 'b' }),
    );

    expect(events).toHaveLength(1);
    const record = events[0]?.Records[0];
    expect(record?.eventName).toBe('ObjectCreated:Put');
    expect(record?.s3.bucket).toMatchObject({ name: bucket, arn: `arn:aws:s3:::${bucket}` });
    expect(record?.s3.object.key).toBe('inbox/t3/invoices/May+run.csv');
    expect(decodeURIComponent(record!.s3.object.key.replaceAll('+', ' '))).toBe(
      'inbox/t3/invoices/May run.csv',
    );
  });

  it('keeps objects in the directory across restarts', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'reports/kept.csv', Body: 'kept' }));
    client.destroy();
    await s3.stop();

    s3 = await startS3Local({ directory });
    client = new S3Client(localS3ClientConfig(s3.endpoint));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'reports/kept.csv' }));

    expect(await got.Body?.transformToString()).toBe('kept');
  });
});
