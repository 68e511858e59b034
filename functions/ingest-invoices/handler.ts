import { S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore } from '../../shared/adapters/s3/s3-blob-store';
import { awsBase } from '../../shared/runtime/aws';
import { makeHandler } from './ingest-invoices';

export const handler = makeHandler({
  ...awsBase('ingest-invoices'),
  blobs: new S3BlobStore(new S3Client({})),
});
