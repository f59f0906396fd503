/**
 * AWS list prices the cost model uses: us-east-1, on-demand, after free tiers. Each carries the date
 * it was read off its AWS pricing page and that page. They are not fetched live (the model runs
 * offline, and this machine has no internet access): check the pages before quoting a figure.
 */

/** The month these prices were read from the AWS pricing pages. */
export const AS_OF = '2025-06';
export interface ListPrice {
  readonly usd: number;
  /** What one `usd` buys. */
  readonly unit: string;
  /** When the price was read off its AWS page (YYYY-MM). */
  readonly asOf: string;
  readonly source: string;
}

const SNS = 'https://aws.amazon.com/sns/pricing/';
const SQS = 'https://aws.amazon.com/sqs/pricing/';
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const DYNAMODB = 'https://aws.amazon.com/dynamodb/pricing/on-demand/';
const KMS = 'https://aws.amazon.com/kms/pricing/';
const CLOUDWATCH = 'https://aws.amazon.com/cloudwatch/pricing/';
const S3 = 'https://aws.amazon.com/s3/pricing/';
const EVENTBRIDGE = 'https://aws.amazon.com/eventbridge/pricing/';

export const PRICES = {
  snsStandardPublish: { usd: 0.5, unit: '1M publish requests (64 KiB chunks)', asOf: AS_OF, source: SNS },
  snsFifoPublish: { usd: 0.3, unit: '1M publish requests (64 KiB chunks)', asOf: AS_OF, source: SNS },
  snsFifoPublishPayload: { usd: 0.017, unit: 'GB published', asOf: AS_OF, source: SNS },
  snsFifoDelivery: { usd: 0.01, unit: '1M deliveries', asOf: AS_OF, source: SNS },
  snsFifoDeliveryPayload: { usd: 0.001, unit: 'GB delivered', asOf: AS_OF, source: SNS },
  sqsStandardRequests: { usd: 0.4, unit: '1M requests (64 KiB chunks)', asOf: AS_OF, source: SQS },
  sqsFifoRequests: { usd: 0.5, unit: '1M requests (64 KiB chunks)', asOf: AS_OF, source: SQS },
  lambdaRequests: { usd: 0.2, unit: '1M invocations', asOf: AS_OF, source: LAMBDA },
  lambdaArmGbSeconds: { usd: 0.0000133334, unit: 'GB-second (arm64)', asOf: AS_OF, source: LAMBDA },
  lambdaX86GbSeconds: { usd: 0.0000166667, unit: 'GB-second (x86_64)', asOf: AS_OF, source: LAMBDA },
  dynamodbWriteUnits: { usd: 0.625, unit: '1M write request units', asOf: AS_OF, source: DYNAMODB },
  dynamodbReadUnits: { usd: 0.125, unit: '1M read request units', asOf: AS_OF, source: DYNAMODB },
  s3PutRequests: { usd: 0.005, unit: '1,000 PUT requests (S3 Standard)', asOf: AS_OF, source: S3 },
  s3GetRequests: { usd: 0.0004, unit: '1,000 GET requests (S3 Standard)', asOf: AS_OF, source: S3 },
  s3StorageGbMonth: { usd: 0.023, unit: 'GB-month (S3 Standard, first 50 TB)', asOf: AS_OF, source: S3 },
  kmsKeyMonth: { usd: 1, unit: 'customer-managed key per month', asOf: AS_OF, source: KMS },
  kmsRequests: { usd: 0.03, unit: '10,000 requests', asOf: AS_OF, source: KMS },
  // Read in 2026-11 (AWS's price list: the first 14 million scheduled invocations of a month are free).
  schedulerInvocations: {
    usd: 1,
    unit: '1M EventBridge Scheduler invocations (after 14M free per month)',
    asOf: '2026-11',
    source: EVENTBRIDGE,
  },
  cloudwatchAlarmMonth: {
    usd: 0.1,
    unit: 'standard-resolution alarm per month',
    asOf: AS_OF,
    source: CLOUDWATCH,
  },
} as const satisfies Record<string, ListPrice>;

export type PriceName = keyof typeof PRICES;
