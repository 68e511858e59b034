import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3BlobStore } from '../../shared/adapters/s3/s3-blob-store';
import { SqsInvoiceQueue } from '../../shared/adapters/sqs/sqs-invoice-queue';
import { EnvNames } from '../../shared/config';
import { awsBase, extraEnv } from '../../shared/runtime/aws';
import { makeHandler } from './ingest-invoices';

const env = extraEnv(EnvNames.invoicesQueueUrl);

export const handler = makeHandler({
  ...awsBase('ingest-invoices'),
  blobs: new S3BlobStore(new S3Client({})),
  invoiceQueue: new SqsInvoiceQueue(new SQSClient({}), env[EnvNames.invoicesQueueUrl]),
});
