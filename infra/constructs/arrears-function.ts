import { isAbsolute, join } from 'node:path';
import { Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EnvNames } from '../../shared/config';
import type { FunctionSpec } from '../functions';
import { LAMBDA_NODE_OPTIONS, lambdaBundle, repoRoot } from './lambda-bundle';

/** One word for the shell that runs the bundling commands, whatever the path holds. */
const shellQuote = (path: string): string => `'${path.replaceAll("'", "'\\''")}'`;

/** NodejsFunction's view of `lambdaBundle`: the only place the two vocabularies meet. */
export const cdkBundling: BundlingOptions = {
  format: lambdaBundle.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
  target: lambdaBundle.target,
  mainFields: [...lambdaBundle.mainFields],
  banner: lambdaBundle.banner,
  minify: lambdaBundle.minify,
  sourceMap: lambdaBundle.sourcemap,
  sourcesContent: lambdaBundle.sourcesContent,
  externalModules: [...lambdaBundle.external],
  define: { ...lambdaBundle.define },
  // The data files beside the bundle (the esbuild API path calls copyBundleFiles instead).
  commandHooks: {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) =>
      Object.entries(lambdaBundle.files).map(
        ([name, source]) => `cp ${shellQuote(source)} ${shellQuote(join(outputDir, name))}`,
      ),
  },
  // Docker is never an option here: bundling uses the esbuild in node_modules or fails.
  forceDockerBundling: false,
};

export interface ArrearsFunctionProps {
  spec: FunctionSpec;
  /** Entry file, absolute or relative to the repository root. */
  entry: string;
  /** Resource names and ARNs, by variable name; LOG_LEVEL and the service name are added here. */
  environment: Record<string, string>;
  logRetention: RetentionDays;
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  reservedConcurrency?: number;
  /** Where failed asynchronous invocations (schedules) end up after Lambda's own retries. */
  deadLetterQueue?: IQueue;
}

/**
 * One Lambda function of the catalog: Node 22 on Graviton, bundled from TypeScript with the shared
 * options, its own log group with retention, its own role (no AWS managed policies), X-Ray tracing.
 */
export class ArrearsFunction extends Construct {
  readonly handler: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ArrearsFunctionProps) {
    super(scope, id);
    const { spec } = props;

    // A log group the stack owns, so retention is a plain CloudFormation property rather than the
    // LogRetention custom resource (an extra Lambda with wide permissions). Logs are operational
    // data; the record of what happened is the audit table, so they go with the stack.
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy lets the function
    // write to every log group in the account; this one may write only to its own.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${spec.name}`,
    });
    this.logGroup.grantWrite(this.role);

    this.handler = new NodejsFunction(this, 'Handler', {
      description: spec.description,
      entry: isAbsolute(props.entry) ? props.entry : join(repoRoot, props.entry),
      handler: 'handler',
      // Node 22 is what the project develops, tests and benchmarks on (node_modules/.bin/node).
      runtime: Runtime.NODEJS_22_X,
      // Graviton: about 20% cheaper per GB-second than x86 for the same work, and nothing here is native.
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      ...(spec.ephemeralStorageMb ? { ephemeralStorageSize: Size.mebibytes(spec.ephemeralStorageMb) } : {}),
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrency,
      deadLetterQueue: props.deadLetterQueue,
      // Fixed paths rather than a search from the working directory, so `cdk synth` from anywhere
      // bundles the same way and the asset hash depends only on the code.
      projectRoot: repoRoot,
      depsLockFilePath: join(repoRoot, 'package-lock.json'),
      bundling: cdkBundling,
      environment: {
        ...props.environment,
        [EnvNames.logLevel]: props.logLevel ?? 'INFO',
        // The folder name is the logger's service name, so logs, traces and code line up.
        POWERTOOLS_SERVICE_NAME: spec.name,
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
      },
    });

    Validations.of(this.handler).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node 22 on purpose: the project develops, tests and benchmarks on Node 22 (the `node` devDependency); the runtime moves when that does.',
    });
    // Tracing adds xray:PutTraceSegments and PutTelemetryRecords to the role's policy.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.',
    });
  }
}
