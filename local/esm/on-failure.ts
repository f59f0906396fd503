/**
 * The OnFailure destination of a stream mapping: the invocation record Lambda sends to an SQS
 * queue or SNS topic when it discards a batch (retries exhausted, record too old).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MappingConfigError } from './errors';

export type DiscardCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface StreamInvocationRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: DiscardCondition;
    approximateInvokeCount: number;
  };
  responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface OnFailureTarget {
  destinationArn: string;
  queueUrl?: string;
  topicArn?: string;
}

/** Sends invocation records to the configured queue or topic. */
export class OnFailureDestination {
  private queueUrl: string | undefined;
  private readonly topicArn: string | undefined;
  private readonly queueName: string | undefined;

  constructor(
    private readonly target: OnFailureTarget,
    private readonly clients: { sqs: SQSClient; sns: SNSClient },
  ) {
    const service = target.destinationArn.split(':')[2];
    if (target.queueUrl || service === 'sqs') {
      this.queueUrl = target.queueUrl;
      this.queueName = target.destinationArn.split(':')[5];
      if (this.queueName?.endsWith('.fifo')) {
        throw new MappingConfigError(
          `OnFailure destination ${target.destinationArn} is a FIFO queue; Lambda only accepts a standard queue or topic.`,
        );
      }
    } else if (target.topicArn || service === 'sns') {
      this.topicArn = target.topicArn ?? target.destinationArn;
    } else {
      throw new MappingConfigError(
        `OnFailure destination ${target.destinationArn} is neither an SQS queue nor an SNS topic ARN; ` +
          'use arn:aws:sqs:<region>:<account>:<queue> or arn:aws:sns:<region>:<account>:<topic>.',
      );
    }
  }

  async send(record: StreamInvocationRecord): Promise<void> {
    const body = JSON.stringify(record);
    if (this.topicArn) {
      await this.clients.sns.send(new PublishCommand({ TopicArn: this.topicArn, Message: body }));
      return;
    }
    this.queueUrl ??= (
      await this.clients.sqs.send(new GetQueueUrlCommand({ QueueName: this.queueName }))
    ).QueueUrl;
    await this.clients.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: body }));
  }

  get arn(): string {
    return this.target.destinationArn;
  }
}
