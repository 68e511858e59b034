import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Lambda's guidance for SQS event sources: visibility at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Deliveries before a message is parked in the DLQ: enough for throttling and transient errors. */
export const MAX_RECEIVE_COUNT = 5;

export interface QueueWithDlqProps {
  /** Timeout of the function that consumes the queue; the visibility timeout follows from it. */
  consumerTimeout: Duration;
  maxReceiveCount?: number;
}

/**
 * A work queue and its dead-letter queue, both encrypted and TLS-only, with an alarm that fires as
 * soon as a message is parked.
 */
export class QueueWithDlq extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly dlqAlarm: Alarm;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);

    this.deadLetterQueue = new Queue(this, 'Dlq', {
      // SSE-SQS rather than a customer key: EventBridge and Lambda can use the queue without key policy
      // grants, and the messages hold object keys and payment references, not card data.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The maximum: parked messages wait for a person, who may be on holiday.
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of its work queue; a DLQ of a DLQ would only move the problem.',
    });

    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A message becomes visible again only after the consumer has certainly given up on it,
      // so a slow but healthy invocation is never processed twice in parallel.
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      // Longer than a weekend outage of a downstream service.
      retentionPeriod: Duration.days(4),
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? MAX_RECEIVE_COUNT,
      },
    });

    this.dlqAlarm = new Alarm(this, 'DlqNotEmpty', {
      alarmDescription: `A message was parked in the dead-letter queue of ${id}: it failed ${props.maxReceiveCount ?? MAX_RECEIVE_COUNT} times.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
