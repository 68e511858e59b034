import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import type { BucketAccess } from '../functions';

export interface ArrearsBucketProps {
  /** Where S3 writes this bucket's server access logs. */
  accessLogs: IBucket;
  /** Prefix of this bucket's entries in the access-log bucket. */
  accessLogsPrefix: string;
  versioned: boolean;
  /** Publish object events to EventBridge (the inbox routes files by key from there). */
  eventBridgeEnabled?: boolean;
}

/** Props every bucket of the stack shares, the access-log bucket included. */
const baseline = {
  // SSE-S3: the only encryption S3 server access logging can deliver into, and for the data
  // buckets no key policy to keep in step with EventBridge, Lambda and Athena.
  encryption: BucketEncryption.S3_MANAGED,
  blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  // ACLs off: access is decided by IAM and the bucket policy alone.
  objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
  // Invoice files, receipts and reports are business records: deleting the stack must not delete them.
  removalPolicy: RemovalPolicy.RETAIN,
} as const;

/** The bucket S3 writes server access logs of the other buckets into. */
export class AccessLogsBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: { retention: Duration }) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      ...baseline,
      lifecycleRules: [{ expiration: props.retention }],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log bucket; logging it into itself would log its own log deliveries forever.',
    });
  }
}

/** An encrypted, private, TLS-only bucket whose access is logged. */
export class ArrearsBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: ArrearsBucketProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      ...baseline,
      versioned: props.versioned,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: props.accessLogsPrefix,
      eventBridgeEnabled: props.eventBridgeEnabled,
      // An upload that never completes still costs storage; a week is ample for a retry.
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
  }

  /**
   * Object access by key prefix: s3:GetObject (+ ListBucket on those prefixes) to read, s3:PutObject
   * to write, and no `s3:GetObject*` / `s3:List*` wildcards (what `grantReadWrite` would add).
   */
  grant(grantee: IGrantable & IConstruct, access: BucketAccess): void {
    const objects = (prefixes: readonly string[]) =>
      prefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}*`));
    const bucketLogicalId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
    for (const prefix of new Set([...(access.read ?? []), ...(access.write ?? [])])) {
      Validations.of(grantee).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${prefix}*]`,
        reason: `Object keys under ${prefix} are per tenant and per file; the grant is limited to that prefix.`,
      });
    }
    if (access.read?.length) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['s3:GetObject'], resources: objects(access.read) }),
      );
      // Without ListBucket a missing key answers 403 instead of 404, and "already written?" checks
      // cannot tell absent from forbidden. Listing is limited to the same prefixes.
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': access.read.map((prefix) => `${prefix}*`) } },
        }),
      );
    }
    if (access.write?.length) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['s3:PutObject'], resources: objects(access.write) }),
      );
    }
  }
}
