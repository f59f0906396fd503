/**
 * The OnFailure destination of a stream mapping: the invocation record Lambda sends to an SQS
 * queue, SNS topic or S3 bucket when it discards a batch (retries exhausted, record too old).
 * An S3 destination also gets the batch itself (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html:
 * "For Amazon S3 destinations, Lambda also sends the entire invocation record"), as one object
 * under aws/lambda/<mapping UUID>/<shard id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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
  /** Bucket name of an S3 destination (arn:aws:s3:::<bucket>). */
  bucket?: string;
}

/** The S3 object key Lambda uses for a discarded stream batch. */
export function s3FailureKey(mappingUuid: string, shardId: string, at: Date, id = randomUUID()): string {
  const iso = at.toISOString();
  const [date = '', time = ''] = iso.split('T');
  const [year, month, day] = date.split('-');
  return `aws/lambda/${mappingUuid}/${shardId}/${year}/${month}/${day}/${date}T${time.slice(0, 8).replaceAll(':', '.')}-${id}`;
}

/** Sends invocation records to the configured queue or topic. */
export class OnFailureDestination {
  private queueUrl: string | undefined;
  private readonly topicArn: string | undefined;
  private readonly queueName: string | undefined;
  private readonly bucket: string | undefined;

  constructor(
    private readonly target: OnFailureTarget,
    private readonly clients: { sqs: SQSClient; sns: SNSClient; s3?: S3Client },
    /** The mapping's UUID, part of the S3 object key. */
    private readonly mappingUuid = 'local',
  ) {
    const service = target.destinationArn.split(':')[2];
    if (target.bucket || service === 's3') {
      this.bucket = target.bucket ?? target.destinationArn.split(':::')[1];
      if (!clients.s3) {
        throw new MappingConfigError(
          `OnFailure destination ${target.destinationArn} is an S3 bucket, but no S3 client was given to the mapping.`,
        );
      }
    } else if (target.queueUrl || service === 'sqs') {
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
        `OnFailure destination ${target.destinationArn} is neither an SQS queue, an SNS topic nor an S3 bucket ARN; ` +
          'use arn:aws:sqs:<region>:<account>:<queue>, arn:aws:sns:<region>:<account>:<topic> or arn:aws:s3:::<bucket>.',
      );
    }
  }

  /** Sends the invocation record; an S3 destination also gets the batch (`payload`). */
  async send(record: StreamInvocationRecord, batch?: { Records: unknown[] }): Promise<void> {
    if (this.bucket && this.clients.s3) {
      const key = s3FailureKey(
        this.mappingUuid,
        record.DDBStreamBatchInfo.shardId,
        new Date(record.timestamp),
      );
      await this.clients.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: JSON.stringify({ ...record, payload: batch }),
          ContentType: 'application/json',
        }),
      );
      return;
    }
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
