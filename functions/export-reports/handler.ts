import { S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore } from '../../shared/adapters/s3/s3-blob-store';
import { EnvNames } from '../../shared/config';
import { awsBase, extraEnv } from '../../shared/runtime/aws';
import { makeHandler } from './export-reports';

const env = extraEnv(EnvNames.reportsBucket);

export const handler = makeHandler({
  ...awsBase('export-reports'),
  blobs: new S3BlobStore(new S3Client({})),
  buckets: { reports: env[EnvNames.reportsBucket] },
});
