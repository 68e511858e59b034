import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeploymentConfig, loadDeploymentConfig } from '../../infra/config/deployment';
import { type FunctionName, functionCatalog } from '../../infra/functions';
import type { ArrearsStack } from '../../infra/stacks/arrears-stack';
import { EnvNames } from '../../shared/config';
import { accountsTable, auditTable, type TableDefinition } from '../../shared/tables';
import {
  LadderSubstitution,
  ladderDefinitionFile,
} from '../../statemachines/escalation-ladder.substitutions';
import { removeSynthOutput, type SynthesizedArrears, synthArrears } from './synth-arrears';

type Resource = {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: template JSON, navigated by path and checked by the assertions
  Properties: Record<string, any>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const getAtt = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

let config: DeploymentConfig;
let synthesized: SynthesizedArrears;
let stack: ArrearsStack;
let template: Template;
let resources: Record<string, Resource>;

const ofType = (type: string): [string, Resource][] =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type);
/** The logical id of construct `<prefix>/...` whose own path adds nothing (`InvoicesQueue`, not `InvoicesQueueDlq`). */
const logicalIdOf = (prefix: string, type: string): string => {
  const matches = ofType(type).filter(([id]) =>
    new RegExp(`^${prefix}(Bucket|Table|Resource)?[0-9A-F]{8}$`).test(id),
  );
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${matches.length}`);
  return matches[0]![0];
};
/** The deployed function of a catalog entry, found by its service name. */
const functionOf = (name: FunctionName): [string, Resource] => {
  const match = ofType('AWS::Lambda::Function').find(
    ([, fn]) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === name,
  );
  if (!match) throw new Error(`no function with service name ${name}`);
  return match;
};
/** Every Allow statement of every IAM policy, with the logical id of its policy. */
const statements = (): { policy: string; statement: Statement }[] =>
  ofType('AWS::IAM::Policy').flatMap(([policy, resource]) =>
    (resource.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({ policy, statement })),
  );
const mentions = (value: unknown, logicalId: string): boolean =>
  JSON.stringify(value).includes(`"${logicalId}"`);

beforeAll(() => {
  config = loadDeploymentConfig();
  synthesized = synthArrears(config);
  stack = synthesized.stacks[0]!;
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});
afterAll(() => removeSynthOutput(synthesized));

describe('Arrears app', () => {
  it('synthesizes one stack per configured region, named and tagged after stage and region', () => {
    const stacks = config.regions.map(
      (region) =>
        synthesized.assembly.stacks.find((artifact) => artifact.environment.region === region.region)!,
    );

    expect(synthesized.assembly.stacks).toHaveLength(config.regions.length);
    expect(stacks.map((artifact) => artifact?.stackName)).toEqual(
      config.regions.map((region) => `Arrears-${config.stage}-${region.region}`),
    );
    for (const artifact of stacks) {
      expect(artifact.tags).toEqual({
        app: 'arrears',
        stage: config.stage,
        region: artifact.environment.region,
      });
    }
  });

  it('needs no account to synthesize, so synth runs offline without credentials', () => {
    expect(config.account).toBeUndefined();
    expect(synthesized.assembly.stacks.map((artifact) => artifact.environment.account)).toEqual([
      'unknown-account',
      'unknown-account',
    ]);
  });
});

describe('ArrearsStack storage', () => {
  it('encrypts every bucket, blocks public access and denies requests without TLS', () => {
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets).toHaveLength(3);
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.DeletionPolicy).toBe('Retain');
      const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => mentions(p.Properties.Bucket, id));
      expect(policy, `bucket policy of ${id}`).toBeDefined();
      expect(policy![1].Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  it('versions the inbox, logs access to both data buckets and sends inbox events to EventBridge', () => {
    const inbox = logicalIdOf('InboxBucket', 'AWS::S3::Bucket');
    const reports = logicalIdOf('ReportsBucket', 'AWS::S3::Bucket');
    const accessLogs = logicalIdOf('AccessLogsBucket', 'AWS::S3::Bucket');

    expect(resources[inbox]!.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(resources[reports]!.Properties.VersioningConfiguration).toBeUndefined();
    for (const id of [inbox, reports]) {
      expect(resources[id]!.Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: accessLogs },
        LogFilePrefix: expect.stringMatching(/\/$/),
      });
    }
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: inbox },
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
  });

  it('routes only invoice files of the inbox to the invoices queue', () => {
    const inbox = logicalIdOf('InboxBucket', 'AWS::S3::Bucket');
    const invoicesQueue = logicalIdOf('InvoicesQueue', 'AWS::SQS::Queue');
    const rules = ofType('AWS::Events::Rule');

    expect(rules).toHaveLength(1);
    expect(rules[0]![1].Properties).toMatchObject({
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [{ Ref: inbox }] }, object: { key: [{ wildcard: 'inbox/*/invoices/*' }] } },
      },
      Targets: [expect.objectContaining({ Arn: getAtt(invoicesQueue) })],
    });
  });

  const expectTableFrom = (prefix: string, definition: TableDefinition) => {
    const [, table] = ofType('AWS::DynamoDB::Table').find(([id]) => id.startsWith(prefix))!;
    const keySchema = (partition: { name: string }, sort: { name: string }) => [
      { AttributeName: partition.name, KeyType: 'HASH' },
      { AttributeName: sort.name, KeyType: 'RANGE' },
    ];

    expect(table.Properties.KeySchema).toEqual(keySchema(definition.partitionKey, definition.sortKey));
    expect(table.Properties.GlobalSecondaryIndexes ?? []).toEqual(
      definition.globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        Projection: { ProjectionType: index.projection },
      })),
    );
    const keys = [definition, ...definition.globalSecondaryIndexes].flatMap((d) => [
      d.partitionKey,
      d.sortKey,
    ]);
    expect(table.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining(keys.map((key) => ({ AttributeName: key.name, AttributeType: key.type }))),
    );
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // SSEEnabled without a key id: KMS with the AWS managed key aws/dynamodb.
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  };

  it('builds the accounts table, with its due index, from shared/tables.ts', () => {
    expect(accountsTable.globalSecondaryIndexes.map((index) => index.indexName)).toContain('due-index');
    expectTableFrom('AccountsTable', accountsTable);
  });

  it('builds the audit table from shared/tables.ts', () => {
    expectTableFrom('AuditTable', auditTable);
  });

  it('never lets a function update or delete an audit entry', () => {
    const audit = logicalIdOf('AuditTable', 'AWS::DynamoDB::Table');
    const onAudit = statements().filter(({ statement }) => mentions(statement.Resource, audit));
    const forbidden =
      /^dynamodb:(\*|UpdateItem|DeleteItem|BatchWriteItem|PartiQL(Update|Delete)|DeleteTable|UpdateTable)$/;

    const writers = functionCatalog.filter((spec) => spec.grants.audit === 'append');
    expect(writers.length).toBeGreaterThan(0);
    expect(onAudit.length).toBeGreaterThanOrEqual(writers.length);
    for (const { policy, statement } of onAudit) {
      expect(
        asArray(statement.Action).filter((action) => forbidden.test(action)),
        policy,
      ).toEqual([]);
    }
    // Appending needs PutItem: each writer's own policy has it on the audit table.
    for (const spec of writers) {
      const role = functionOf(spec.name)[1].Properties.Role['Fn::GetAtt'][0] as string;
      const own = onAudit.filter(({ policy }) => mentions(resources[policy]!.Properties.Roles, role));
      expect(
        own.flatMap(({ statement }) => asArray(statement.Action)),
        spec.name,
      ).toContain('dynamodb:PutItem');
    }
  });
});

describe('ArrearsStack queues', () => {
  it('gives every work queue a DLQ and a visibility timeout of at least six times its consumer timeout', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    const consumers = functionCatalog.filter((spec) => spec.trigger.kind === 'queue');
    expect(mappings).toHaveLength(consumers.length);

    for (const spec of consumers) {
      const [fnId, fn] = functionOf(spec.name);
      const [, mapping] = mappings.find(([, m]) => m.Properties.FunctionName.Ref === fnId)!;
      const queueId = mapping.Properties.EventSourceArn['Fn::GetAtt'][0] as string;
      const queue = resources[queueId]!.Properties;

      expect(mapping.Properties).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: spec.trigger.kind === 'queue' ? spec.trigger.batchSize : -1,
      });
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Properties.Timeout);
      expect(queue.RedrivePolicy.maxReceiveCount).toBe(5);
      const dlqId = queue.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0] as string;
      expect(resources[dlqId]?.Type).toBe('AWS::SQS::Queue');
    }
  });

  it('encrypts every queue and denies requests without TLS', () => {
    const queues = ofType('AWS::SQS::Queue');
    expect(queues).toHaveLength(5); // two work queues, their DLQs, the async-failures DLQ
    for (const [id, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
      const policy = ofType('AWS::SQS::QueuePolicy').find(([, p]) => mentions(p.Properties.Queues, id));
      expect(policy?.[1].Properties.PolicyDocument.Statement, id).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });
});

describe('ArrearsStack functions', () => {
  it('deploys every catalog function on Node 22, arm64, traced, with its own log retention and environment', () => {
    expect(
      ofType('AWS::Lambda::Function').filter(([, fn]) => fn.Properties.Runtime?.startsWith('nodejs22')),
    ).toHaveLength(functionCatalog.length);
    for (const spec of functionCatalog) {
      const [, fn] = functionOf(spec.name);
      expect(fn.Properties, spec.name).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        Timeout: spec.timeoutSeconds,
        MemorySize: spec.memoryMb,
      });
      const variables = Object.keys(fn.Properties.Environment.Variables);
      expect(variables, spec.name).toEqual(
        expect.arrayContaining([...spec.env.map((key) => EnvNames[key]), EnvNames.logLevel, 'NODE_OPTIONS']),
      );
      const logGroup = resources[fn.Properties.LoggingConfig.LogGroup.Ref as string]!;
      expect(logGroup.Properties.RetentionInDays).toBe(config.logRetentionDays);
    }
  });

  it('uses no AWS managed policy for the functions', () => {
    for (const spec of functionCatalog) {
      const roleId = functionOf(spec.name)[1].Properties.Role['Fn::GetAtt'][0] as string;
      expect(resources[roleId]!.Properties.ManagedPolicyArns, spec.name).toBeUndefined();
    }
  });

  it('lets send-notice send only from the region sender identity', () => {
    const sesStatements = statements().filter(({ statement }) =>
      asArray(statement.Action).includes('ses:SendEmail'),
    );

    expect(sesStatements).toHaveLength(1);
    expect(JSON.stringify(sesStatements[0]!.statement.Resource)).toContain(
      `:identity/${config.regions[0]!.sender.identity}`,
    );
  });

  it('lets payment-webhook read the generated signing secret and queue payments', () => {
    const [, webhook] = functionOf('payment-webhook');
    const secret = logicalIdOf('WebhookSigningSecrets', 'AWS::SecretsManager::Secret');
    const payments = logicalIdOf('PaymentsQueue', 'AWS::SQS::Queue');

    expect(webhook.Properties.Environment.Variables).toMatchObject({
      [EnvNames.webhookSecretArn]: { Ref: secret },
      [EnvNames.paymentsQueueUrl]: { Ref: payments },
    });
    expect(resources[secret]!.Properties.GenerateSecretString).toBeDefined();
    expect(resources[secret]!.Properties.SecretString).toBeUndefined();
  });
});

describe('ArrearsStack ingest continuation', () => {
  it('lets ingest-invoices send to its own queue, and no other function', () => {
    const [, ingest] = functionOf('ingest-invoices');
    const invoices = logicalIdOf('InvoicesQueue', 'AWS::SQS::Queue');
    const ingestRole = ingest.Properties.Role['Fn::GetAtt'][0] as string;

    expect(ingest.Properties.Environment.Variables).toMatchObject({
      [EnvNames.invoicesQueueUrl]: { Ref: invoices },
    });
    const senders = statements()
      .filter(({ statement }) => asArray(statement.Action).includes('sqs:SendMessage'))
      .filter(({ statement }) => mentions(statement.Resource, invoices))
      .map(({ policy }) => resources[policy]!.Properties.Roles.map((role: { Ref: string }) => role.Ref));
    expect(senders).toEqual([[ingestRole]]);
  });

  it('gives ingest-invoices 2 GiB of /tmp for the partitions it spills, and the others the default', () => {
    expect(functionOf('ingest-invoices')[1].Properties.EphemeralStorage).toEqual({ Size: 2048 });
    expect(functionOf('aging-scan')[1].Properties.EphemeralStorage).toBeUndefined();
  });
});

describe('ArrearsStack escalation ladder', () => {
  const ladderFile = fileURLToPath(ladderDefinitionFile);
  const asl = readFileSync(ladderFile, 'utf8');

  it('is a Standard state machine loaded from the ASL file', () => {
    const [, machine] = ofType('AWS::StepFunctions::StateMachine')[0]!;
    expect(machine.Properties.StateMachineType).toBe('STANDARD');

    const key = machine.Properties.DefinitionS3Location.Key as string;
    const staged = readFileSync(join(synthesized.assembly.directory, `asset.${key}`), 'utf8');
    expect(staged).toBe(asl);
    expect(Object.keys(JSON.parse(staged).States)).toEqual(Object.keys(JSON.parse(asl).States));
  });

  it('substitutes every placeholder of the ASL file with the ARN of its task function', () => {
    const [, machine] = ofType('AWS::StepFunctions::StateMachine')[0]!;
    const placeholders = [...new Set([...asl.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]))].sort();
    const substitutions = machine.Properties.DefinitionSubstitutions as Record<string, unknown>;

    expect(Object.keys(substitutions).sort()).toEqual(placeholders);
    expect(placeholders).toEqual(Object.values(LadderSubstitution).sort());
    expect(substitutions[LadderSubstitution.evaluateAccount]).toEqual(
      getAtt(functionOf('ladder-evaluate')[0]),
    );
    expect(substitutions[LadderSubstitution.sendNotice]).toEqual(getAtt(functionOf('send-notice')[0]));
  });

  it('may invoke exactly its task functions', () => {
    const [, machine] = ofType('AWS::StepFunctions::StateMachine')[0]!;
    const role = machine.Properties.RoleArn['Fn::GetAtt'][0] as string;
    const invoke = statements().filter(
      ({ policy, statement }) =>
        mentions(resources[policy]!.Properties.Roles, role) &&
        asArray(statement.Action).includes('lambda:InvokeFunction'),
    );

    expect(invoke).toHaveLength(1);
    expect(invoke[0]!.statement.Resource).toEqual([
      getAtt(functionOf('ladder-evaluate')[0]),
      getAtt(functionOf('send-notice')[0]),
    ]);
  });

  it('logs every event without execution data and is traced', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: Match.anyValue() },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('gives aging-scan the ladder ARN and the right to start executions', () => {
    const machine = ofType('AWS::StepFunctions::StateMachine')[0]![0];
    const [, scan] = functionOf('aging-scan');
    const scanRole = scan.Properties.Role['Fn::GetAtt'][0] as string;

    expect(scan.Properties.Environment.Variables[EnvNames.ladderStateMachineArn]).toEqual({ Ref: machine });
    expect(
      statements().some(
        ({ policy, statement }) =>
          mentions(resources[policy]!.Properties.Roles, scanRole) &&
          asArray(statement.Action).includes('states:StartExecution') &&
          mentions(statement.Resource, machine),
      ),
    ).toBe(true);
  });
});

describe('ArrearsStack triggers', () => {
  it('schedules aging-scan and export-reports daily in the region time zone, with a DLQ', () => {
    const schedules = ofType('AWS::Scheduler::Schedule');
    const region = config.regions[0]!;
    const asyncFailures = logicalIdOf('AsyncFailuresDlq', 'AWS::SQS::Queue');

    expect(schedules).toHaveLength(2);
    for (const [name, at] of [
      ['aging-scan', region.agingScanAt],
      ['export-reports', region.exportReportsAt],
    ] as const) {
      const [fnId] = functionOf(name);
      const [, schedule] = schedules.find(([, s]) => mentions(s.Properties.Target.Arn, fnId))!;
      expect(schedule.Properties).toMatchObject({
        ScheduleExpression: `cron(${at.minute} ${at.hour} * * ? *)`,
        ScheduleExpressionTimezone: region.scheduleTimeZone,
        Target: { DeadLetterConfig: { Arn: getAtt(asyncFailures) } },
      });
    }
  });

  it('routes POST /webhooks/{provider}/{tenant} to payment-webhook on a throttled, access-logged stage', () => {
    const [webhookId] = functionOf('payment-webhook');
    const [[integration]] = ofType('AWS::ApiGatewayV2::Integration') as [[string, Resource]];
    const region = config.regions[0]!;

    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /webhooks/{provider}/{tenant}',
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: integration }]] },
    });
    expect(resources[integration]!.Properties.IntegrationUri).toEqual(getAtt(webhookId));
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: region.webhookThrottle.rateLimit,
        ThrottlingBurstLimit: region.webhookThrottle.burstLimit,
      },
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('\\$context.requestId'),
      },
    });
  });

  it('sends every alarm to the configured address', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    const topic = logicalIdOf('AlarmTopic', 'AWS::SNS::Topic');

    expect(alarms.length).toBeGreaterThanOrEqual(4); // two DLQs, async failures, failed ladders
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topic }]);
    }
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: config.alarmEmail,
    });
  });
});

describe('ArrearsStack cdk-nag (AwsSolutions)', () => {
  it('leaves no finding unacknowledged in any region', () => {
    for (const each of synthesized.stacks) {
      const report = new AwsSolutionsChecks().validateScope(each);
      const findings = report.violations.map(
        (violation) =>
          `${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
      expect(findings, each.stackName).toEqual([]);
    }
  });

  it('acknowledges each finding on the construct it concerns, with a reason', () => {
    const acknowledgements = stack.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
        .flatMap((entry) =>
          Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
            construct,
            id,
            reason,
          })),
        ),
    );

    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const { construct, id, reason } of acknowledgements) {
      expect(construct, id).not.toBe(stack);
      expect(String(reason).length, id).toBeGreaterThan(30);
    }
  });

  it('reports no error or warning annotation', () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });
});

describe('ArrearsStack without alarm e-mail, with an account', () => {
  it('keeps the alarms without a topic and deploys to the configured account', () => {
    const base = loadDeploymentConfig();
    const variant = synthArrears({
      ...base,
      account: '123456789012',
      alarmEmail: undefined,
      regions: [base.regions[1]!],
    });
    const variantTemplate = Template.fromStack(variant.stacks[0]!);
    removeSynthOutput(variant);

    expect(variant.assembly.stacks.map((artifact) => artifact.environment)).toEqual([
      expect.objectContaining({ account: '123456789012', region: base.regions[1]!.region }),
    ]);
    variantTemplate.resourceCountIs('AWS::SNS::Topic', 0);
    variantTemplate.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    expect(new AwsSolutionsChecks().validateScope(variant.stacks[0]!).violations).toEqual([]);
  });
});
