import { fileURLToPath } from 'node:url';
import {
  type CfnElement,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Match as EventMatch, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { EnvNames } from '../../shared/config';
import { accountsTable, auditTable } from '../../shared/tables';
import { ladderDefinitionFile } from '../../statemachines/escalation-ladder.substitutions';
import type { DeploymentConfig, RegionDeployment, TimeOfDay } from '../config/deployment';
import { AccessLogsBucket, ArrearsBucket } from '../constructs/arrears-bucket';
import { ArrearsFunction } from '../constructs/arrears-function';
import { ArrearsTable } from '../constructs/arrears-table';
import { QueueWithDlq } from '../constructs/queue-with-dlq';
import {
  type EnvKey,
  type FunctionName,
  type FunctionSpec,
  functionCatalog,
  functionEntry,
  functionId,
  type QueueName,
  type ScheduleName,
} from '../functions';

export const APP_TAG = 'arrears';

export const stackName = (stage: string, region: string): string => `Arrears-${stage}-${region}`;

export interface ArrearsStackProps extends StackProps {
  deployment: DeploymentConfig;
  region: RegionDeployment;
  /**
   * Entry file of a function, relative to the repository root. Defaults to functions/<name>/handler.ts;
   * infra tests, which skip bundling, point every function at one fixture.
   */
  entryFor?: (spec: FunctionSpec) => string;
}

/**
 * Everything Arrears needs in one region: inbox and reports buckets, the accounts and audit tables,
 * the work queues, the functions of the catalog and their triggers, the escalation ladder and the
 * webhook API. Tenants live in exactly one region, so regions share nothing.
 */
export class ArrearsStack extends Stack {
  readonly accessLogs: AccessLogsBucket;
  readonly inbox: ArrearsBucket;
  readonly reports: ArrearsBucket;
  readonly accounts: ArrearsTable;
  readonly audit: ArrearsTable;
  readonly queues: Record<QueueName, QueueWithDlq>;
  readonly asyncFailures: Queue;
  readonly webhookSecret: Secret;
  readonly functions: Record<FunctionName, ArrearsFunction>;
  readonly ladder: StateMachine;
  readonly webhookApi: HttpApi;
  readonly schedules: Record<ScheduleName, Schedule>;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ArrearsStackProps) {
    super(scope, id, props);
    const { deployment, region } = props;
    const logRetention = deployment.logRetentionDays as RetentionDays;

    // --- Storage -------------------------------------------------------------------------------
    this.accessLogs = new AccessLogsBucket(this, 'AccessLogs', {
      // Long enough to investigate an incident reported weeks later; access logs are not the record.
      retention: Duration.days(365),
    });
    this.inbox = new ArrearsBucket(this, 'Inbox', {
      accessLogs: this.accessLogs.bucket,
      accessLogsPrefix: 'inbox/',
      // Versioned: the finance team's files are evidence. An upload under an existing name keeps
      // the earlier file, and the receipt of an ingested file always points at bytes that exist.
      versioned: true,
      // Routing by key pattern (inbox/<tenant>/invoices/...) needs EventBridge; S3's own
      // notifications allow one prefix/suffix per destination and no wildcard in the middle.
      eventBridgeEnabled: true,
    });
    this.reports = new ArrearsBucket(this, 'Reports', {
      accessLogs: this.accessLogs.bucket,
      accessLogsPrefix: 'reports/',
      // Not versioned: reports are derived from the tables and rewritten whole for a day when rerun;
      // versions would keep every rerun's copy at full price and restore nothing the tables lack.
      versioned: false,
    });

    this.accounts = new ArrearsTable(this, 'AccountsTable', accountsTable);
    this.audit = new ArrearsTable(this, 'AuditTable', auditTable);

    // --- Queues --------------------------------------------------------------------------------
    const consumerOf = (queue: QueueName): FunctionSpec => {
      const spec = functionCatalog.find(
        (candidate) => candidate.trigger.kind === 'queue' && candidate.trigger.queue === queue,
      );
      if (!spec) throw new Error(`no function in the catalog consumes the ${queue} queue`);
      return spec;
    };
    this.queues = {
      invoices: new QueueWithDlq(this, 'InvoicesQueue', {
        consumerTimeout: Duration.seconds(consumerOf('invoices').timeoutSeconds),
      }),
      payments: new QueueWithDlq(this, 'PaymentsQueue', {
        consumerTimeout: Duration.seconds(consumerOf('payments').timeoutSeconds),
      }),
    };
    this.alarms.push(this.queues.invoices.dlqAlarm, this.queues.payments.dlqAlarm);
    this.routeInvoiceFiles();
    this.acknowledgeBucketNotificationsHandler();

    // Scheduled functions are invoked asynchronously: after Lambda's two retries (or the scheduler's
    // own), the event lands here instead of vanishing, and the alarm below tells someone.
    this.asyncFailures = new Queue(this, 'AsyncFailuresDlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.asyncFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the scheduled invocations.',
    });
    this.alarms.push(
      new Alarm(this, 'AsyncFailuresAlarm', {
        alarmDescription: 'A scheduled run (aging scan or report export) failed after its retries.',
        metric: this.asyncFailures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    // Generated rather than given: a value written in the stack would sit in plain text in the
    // template for anyone who can read it. The generated placeholder is not the documented shape
    // (functions/payment-webhook/schema.ts), so the webhook answers 5xx until an operator stores the
    // providers' secrets with `aws secretsmanager put-secret-value`; gateways retry 5xx for days, so
    // no event is lost in between.
    this.webhookSecret = new Secret(this, 'WebhookSigningSecrets', {
      description:
        'Payment gateway webhook signing secrets: {"<provider>": {"<tenant>": "<secret>" | [...]}}',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: 'replaceMe',
        excludePunctuation: true,
      },
      // Copies of what the gateways' dashboards show: losing them means re-entering, not data loss.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.webhookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The signing secrets are issued by the payment gateways: rotation starts in the gateway dashboard and ends with put-secret-value (the secret holds a list of old and new during the switch); a rotation Lambda cannot do either.',
    });

    // --- Functions -----------------------------------------------------------------------------
    const envValue: Record<Exclude<EnvKey, 'ladderStateMachineArn'>, string> = {
      accountsTable: this.accounts.table.tableName,
      auditTable: this.audit.table.tableName,
      inboxBucket: this.inbox.bucket.bucketName,
      reportsBucket: this.reports.bucket.bucketName,
      paymentsQueueUrl: this.queues.payments.queue.queueUrl,
      invoicesQueueUrl: this.queues.invoices.queue.queueUrl,
      webhookSecretArn: this.webhookSecret.secretArn,
    };
    const entryFor = props.entryFor ?? ((spec: FunctionSpec) => functionEntry(spec.name));
    const functions: Partial<Record<FunctionName, ArrearsFunction>> = {};
    for (const spec of functionCatalog) {
      const environment: Record<string, string> = {};
      for (const key of spec.env) {
        if (key !== 'ladderStateMachineArn') environment[EnvNames[key]] = envValue[key];
      }
      const fn = new ArrearsFunction(this, functionId(spec.name), {
        spec,
        entry: entryFor(spec),
        environment,
        logRetention,
        reservedConcurrency: region.reservedConcurrency[spec.name],
        deadLetterQueue: spec.trigger.kind === 'schedule' ? this.asyncFailures : undefined,
      });
      this.grant(fn, spec, region);
      functions[spec.name] = fn;
    }
    this.functions = functions as Record<FunctionName, ArrearsFunction>;

    // --- Escalation ladder ---------------------------------------------------------------------
    const ladderTasks = functionCatalog.flatMap((spec) =>
      spec.trigger.kind === 'ladderTask' ? [{ spec, substitution: spec.trigger.substitution }] : [],
    );
    const ladderLogs = new LogGroup(this, 'LadderLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.ladder = new StateMachine(this, 'EscalationLadder', {
      // The same file the local runtime interprets, so both homes run one definition.
      definitionBody: DefinitionBody.fromFile(fileURLToPath(ladderDefinitionFile)),
      definitionSubstitutions: Object.fromEntries(
        ladderTasks.map(({ spec, substitution }) => [
          substitution,
          this.functions[spec.name].handler.functionArn,
        ]),
      ),
      // Standard: a ladder waits days between rungs (Express runs at most five minutes), and a
      // Standard execution runs each state once (Express: at least once) unless its Retry says so.
      stateMachineType: StateMachineType.STANDARD,
      logs: {
        destination: ladderLogs,
        level: LogLevel.ALL,
        // Inputs and outputs carry debtors' names, addresses and balances: the execution history
        // keeps them 90 days after an execution closes; logs would copy them for the whole retention.
        includeExecutionData: false,
      },
      tracingEnabled: true,
    });
    // Only the functions the ladder runs, and only their unqualified ARNs (what the ASL names),
    // instead of grantInvoke's `<arn>:*` wildcard over every version and alias.
    this.ladder.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: ladderTasks.map(({ spec }) => this.functions[spec.name].handler.functionArn),
      }),
    );
    Validations.of(this.ladder.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery and related) and X-Ray tracing do not support resource-level permissions.',
    });
    // The ladder needs the task functions' ARNs and the starters need the ladder's: the starters get
    // theirs once it exists.
    for (const spec of functionCatalog) {
      const fn = this.functions[spec.name];
      if (spec.env.includes('ladderStateMachineArn')) {
        fn.handler.addEnvironment(EnvNames.ladderStateMachineArn, this.ladder.stateMachineArn);
      }
      if (spec.grants.startLadder) this.ladder.grantStartExecution(fn.role);
    }
    this.alarms.push(
      new Alarm(this, 'LadderFailedAlarm', {
        alarmDescription: 'An escalation ladder failed after its retries; the account is left as it was.',
        metric: this.ladder.metricFailed({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    // --- Triggers ------------------------------------------------------------------------------
    const schedules: Partial<Record<ScheduleName, Schedule>> = {};
    let api: HttpApi | undefined;
    for (const spec of functionCatalog) {
      const fn = this.functions[spec.name].handler;
      const trigger = spec.trigger;
      switch (trigger.kind) {
        case 'queue':
          fn.addEventSource(
            new SqsEventSource(this.queues[trigger.queue].queue, {
              batchSize: trigger.batchSize,
              maxBatchingWindow:
                trigger.maxBatchingWindowSeconds === undefined
                  ? undefined
                  : Duration.seconds(trigger.maxBatchingWindowSeconds),
              // One bad record fails alone; the others of the batch are not redelivered.
              reportBatchItemFailures: true,
            }),
          );
          break;
        case 'schedule': {
          const at: TimeOfDay =
            trigger.schedule === 'agingScan' ? region.agingScanAt : region.exportReportsAt;
          schedules[trigger.schedule] = new Schedule(this, `${functionId(spec.name)}Schedule`, {
            description: `Daily ${spec.name} at ${String(at.hour).padStart(2, '0')}:${String(at.minute).padStart(2, '0')} ${region.scheduleTimeZone}`,
            // A cron in the region's zone: the scheduler handles daylight-saving shifts, UTC cron does not.
            schedule: ScheduleExpression.cron({
              minute: String(at.minute),
              hour: String(at.hour),
              timeZone: TimeZone.of(region.scheduleTimeZone),
            }),
            target: new LambdaInvoke(fn, {
              role: this.schedulerRole(spec),
              // The planned time, not the arrival time: a late or retried run still works on its own day.
              input: ScheduleTargetInput.fromObject({
                source: 'schedule',
                scheduledTime: ContextAttribute.scheduledTime,
              }),
              retryAttempts: 3,
              maxEventAge: Duration.hours(6),
              deadLetterQueue: this.asyncFailures,
            }),
          });
          break;
        }
        case 'http': {
          api ??= this.createWebhookApi(region, logRetention);
          const routes = api.addRoutes({
            path: trigger.path,
            methods: [HttpMethod[trigger.method]],
            integration: new HttpLambdaIntegration(`${functionId(spec.name)}Integration`, fn),
          });
          for (const route of routes) {
            Validations.of(route).acknowledge({
              id: 'AwsSolutions-APIG4',
              reason:
                'Payment gateways cannot sign in; the handler authenticates every request by the HMAC signature over the raw body before anything else.',
            });
          }
          break;
        }
        case 'ladderTask':
          break;
      }
    }
    if (!api) throw new Error('no function in the catalog is triggered over HTTP');
    this.webhookApi = api;
    this.schedules = schedules as Record<ScheduleName, Schedule>;

    // --- Alarms and outputs ---------------------------------------------------------------------
    if (deployment.alarmEmail) {
      const topic = new Topic(this, 'AlarmTopic', {
        displayName: `Arrears ${deployment.stage} ${this.region} alarms`,
        enforceSSL: true,
      });
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry alarm names only, no personal data; CloudWatch cannot publish to a topic under the AWS managed SNS key, and a customer key would add cost and a key policy for that alone.',
      });
      topic.addSubscription(new EmailSubscription(deployment.alarmEmail));
      for (const alarm of this.alarms) alarm.addAlarmAction(new SnsAction(topic));
    }

    new CfnOutput(this, 'InboxBucketName', {
      value: this.inbox.bucket.bucketName,
      description: 'Drop invoice files under inbox/<tenant>/invoices/',
    });
    new CfnOutput(this, 'WebhookUrl', {
      value: `${this.webhookApi.apiEndpoint}/webhooks/{provider}/{tenant}`,
      description: 'Payment gateway webhook endpoint',
    });
    new CfnOutput(this, 'WebhookSecretArn', { value: this.webhookSecret.secretArn });
  }

  /** The role EventBridge Scheduler assumes to invoke a scheduled function. */
  private schedulerRole(spec: FunctionSpec): Role {
    const role = new Role(this, `${functionId(spec.name)}ScheduleRole`, {
      // Only schedules of this account may assume it (the confused-deputy guard Scheduler documents).
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    });
    const fn = this.functions[spec.name].handler;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason:
        'The scheduler target grants invoke on the function and its versions/aliases (`:*`); it is one function, and the schedule calls it unqualified.',
    });
    return role;
  }

  /**
   * `eventBridgeEnabled` is applied by CDK's BucketNotificationsHandler, a custom-resource Lambda
   * created once per stack with the AWSLambdaBasicExecutionRole managed policy.
   */
  private acknowledgeBucketNotificationsHandler(): void {
    const handler = this.node.children.find((child) =>
      child.node.id.startsWith('BucketNotificationsHandler'),
    );
    const role = handler?.node.tryFindChild('Role');
    if (!role) throw new Error('expected the BucketNotificationsHandler of eventBridgeEnabled in the stack');
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "CDK's own custom resource that turns on EventBridge notifications for the inbox bucket; it runs only during deployment and writes only its own logs.",
    });
  }

  /** The inbox-to-queue route: only invoice files, by key pattern, become work. */
  private routeInvoiceFiles(): void {
    new Rule(this, 'InvoiceFileCreated', {
      description: 'An invoice file arrived in the inbox (inbox/<tenant>/invoices/...)',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [this.inbox.bucket.bucketName] },
          object: { key: EventMatch.wildcard('inbox/*/invoices/*') },
        },
      },
      targets: [new SqsQueue(this.queues.invoices.queue)],
    });
  }

  private createWebhookApi(region: RegionDeployment, logRetention: RetentionDays): HttpApi {
    const api = new HttpApi(this, 'WebhookApi', {
      description: 'Payment gateway webhooks',
      // The stage is declared below, with throttling and access logs.
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'WebhookAccessLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new HttpStage(this, 'WebhookStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      // A misbehaving gateway or a flood cannot exhaust the account's Lambda concurrency; gateways
      // retry a 429 for hours to days.
      throttle: {
        rateLimit: region.webhookThrottle.rateLimit,
        burstLimit: region.webhookThrottle.burstLimit,
      },
      // Who called which route and how it ended, for disputes with a gateway ("we sent it").
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    return api;
  }

  private grant(fn: ArrearsFunction, spec: FunctionSpec, region: RegionDeployment): void {
    const { grants } = spec;
    if (grants.accounts) this.accounts.grant(fn.role, grants.accounts);
    if (grants.audit) this.audit.grant(fn.role, grants.audit);
    if (grants.inbox) this.inbox.grant(fn.role, grants.inbox);
    if (grants.reports) this.reports.grant(fn.role, grants.reports);
    if (grants.sendPayments) this.queues.payments.queue.grantSendMessages(fn.role);
    if (grants.sendInvoices) this.queues.invoices.queue.grantSendMessages(fn.role);
    if (grants.readWebhookSecret) this.webhookSecret.grantRead(fn.role);
    if (grants.sendEmail) {
      fn.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['ses:SendEmail', 'ses:SendRawEmail'],
          resources: [
            this.formatArn({ service: 'ses', resource: 'identity', resourceName: region.sender.identity }),
          ],
        }),
      );
    }
  }
}

export interface AddArrearsStacksOptions {
  entryFor?: (spec: FunctionSpec) => string;
  /** Account when the config names none; the CLI sets CDK_DEFAULT_ACCOUNT when it has credentials. */
  defaultAccount?: string;
}

/** One stack per configured region. No lookups: synthesis needs neither credentials nor network. */
export const addArrearsStacks = (
  scope: Construct,
  deployment: DeploymentConfig,
  options: AddArrearsStacksOptions = {},
): ArrearsStack[] =>
  deployment.regions.map((region) => {
    const name = stackName(deployment.stage, region.region);
    return new ArrearsStack(scope, name, {
      stackName: name,
      description: `Arrears ${deployment.stage} in ${region.region}: ingest, reconcile, escalate, record, report.`,
      // Stack tags: CloudFormation copies them onto every resource that takes tags, for cost
      // allocation and "what is this?" per stage and region.
      tags: { app: APP_TAG, stage: deployment.stage, region: region.region },
      env: { account: deployment.account ?? options.defaultAccount, region: region.region },
      deployment,
      region,
      entryFor: options.entryFor,
    });
  });
