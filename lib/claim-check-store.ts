/**
 * The claim check's store: an S3 bucket for payloads too large for their channel. Channels opt in
 * with `claimCheck: store`; their producers may write, their consumers read, each only under the
 * channel's prefix. Claims expire once no queue that can carry their reference still holds it.
 */
import { Duration, Lazy, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { claimLocationVariables } from '../lambdas/claim-check/location';
import type { ClaimLocation } from '../lambdas/claim-check/reference';
import { removalPolicyOf } from './defaults';
import { SQS_MAX_RETENTION } from './processed-messages-table';

/** SQS's default retention, for queues created without one. */
export const SQS_DEFAULT_RETENTION_PERIOD = Duration.days(4);
/** Extra time a claim outlives the longest retention: a consumer may fetch it just before the message expires. */
export const CLAIM_EXPIRY_MARGIN = Duration.days(1);

export interface ClaimCheckStoreProps {
  /**
   * A customer-managed key for the bucket (SSE-KMS with an S3 Bucket Key). Producers then also get
   * `kms:GenerateDataKey` and consumers `kms:Decrypt` on it.
   * @default - S3-managed encryption (SSE-S3): no KMS request per claim, no KMS throttling on large bursts
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long a claim stays. Must outlive every queue (and DLQ) that can carry a reference to it.
   * @default - the longest retention of the wired queues plus one day
   */
  readonly expiration?: Duration;
  /**
   * Bucket that receives the server access logs.
   * @default - no access logs (acknowledged for cdk-nag: see README, "Claim check")
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * Removal policy of the bucket. DESTROY only deletes an empty bucket.
   * @default - the `switchyard:removalPolicy` context, else RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** A channel that stores large payloads in this store. */
interface WiredRetention {
  readonly source: string;
  readonly retention: Duration;
}

/**
 * An S3 bucket for claim-check payloads: encrypted, TLS-only, public access blocked, versioning off
 * (a key is rewritten only by a retry of the same message, with the same bytes), objects expiring
 * after the longest time a queue wired to it can hold a reference (a DLQ: its queue's retention plus its own).
 *
 * @example
 * const claims = new ClaimCheckStore(this, 'Claims');
 * const orders = new PublishSubscribeChannel(this, 'Orders', { channelName: 'orders', claimCheck: claims });
 */
export class ClaimCheckStore extends Construct {
  readonly bucket: s3.Bucket;
  private readonly retentions: WiredRetention[] = [];
  private readonly expiration?: Duration;

  constructor(scope: Construct, id: string, props: ClaimCheckStoreProps = {}) {
    super(scope, id);
    this.expiration = props.expiration;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: props.encryptionKey ? true : undefined,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      removalPolicy: removalPolicyOf(this, props.removalPolicy),
    });
    const cfn = this.bucket.node.defaultChild as s3.CfnBucket;
    // Computed at synth: channels and consumers wired after the store still count.
    cfn.lifecycleConfiguration = Lazy.any({
      produce: () => ({
        rules: [
          {
            id: 'ExpireClaims',
            status: 'Enabled',
            expirationInDays: this.expirationDays,
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      }),
    });
    if (!props.serverAccessLogsBucket) {
      Validations.of(this.bucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          'Claims are written and read only by the backbone functions this app grants, under their own prefix, and ' +
          'expire within days; pass serverAccessLogsBucket (or enable CloudTrail S3 data events) for an access audit.',
      });
    }
    this.node.addValidation({ validate: () => this.validateExpiration() });
  }

  /** Days after which S3 deletes a claim. */
  get expirationDays(): number {
    if (this.expiration) return Math.ceil(this.expiration.toHours() / 24);
    return Math.ceil(this.longestRetention.plus(CLAIM_EXPIRY_MARGIN).toHours() / 24);
  }

  /** The longest retention of the queues that can carry a reference (SQS's default when none is wired yet). */
  get longestRetention(): Duration {
    let longest = 0;
    for (const wired of this.retentions) longest = Math.max(longest, wired.retention.toSeconds());
    return Duration.seconds(longest || SQS_DEFAULT_RETENTION_PERIOD.toSeconds());
  }

  /** Where the claims of `channelName` go. */
  location(channelName: string): ClaimLocation {
    return { bucket: this.bucket.bucketName, prefix: `${channelName.replace(/\.fifo$/, '')}/` };
  }

  /** The variables a producer of `channelName` needs to offload. */
  environmentFor(channelName: string): Record<string, string> {
    return claimLocationVariables(channelName, this.location(channelName));
  }

  /**
   * Records that `queue` (retention `retention`, unknown = SQS's maximum) may hold references to
   * claims: the lifecycle keeps claims at least that long.
   */
  addRetention(source: IConstruct, retention: Duration | undefined): void {
    this.retentions.push({ source: source.node.path, retention: retention ?? SQS_MAX_RETENTION });
  }

  /**
   * Records a queue and its DLQ. A reference can stay in the DLQ for the queue's retention plus the
   * DLQ's, not the DLQ's alone: a FIFO DLQ resets the enqueue time of a message it receives, and a
   * redrive (StartMessageMoveTask or `switchyard dlq redrive`) enqueues a new message with a fresh
   * retention in the queue. `deadLetterRetention` unknown (a given DLQ) counts as SQS's maximum.
   */
  addQueueWithDeadLetterQueue(
    queue: IConstruct,
    retention: Duration,
    deadLetterQueue: IConstruct,
    deadLetterRetention: Duration | undefined,
  ): void {
    this.addRetention(queue, retention);
    this.addRetention(deadLetterQueue, retention.plus(deadLetterRetention ?? SQS_MAX_RETENTION));
  }

  /** `s3:PutObject` on the channel's prefix (and `kms:GenerateDataKey` with a customer key). */
  grantPut(grantee: iam.IGrantable, channelName: string): iam.Grant {
    this.bucket.encryptionKey?.grant(grantee, 'kms:GenerateDataKey');
    return this.grantObjects(grantee, channelName, ['s3:PutObject']);
  }

  /** `s3:GetObject` on the channel's prefix (and `kms:Decrypt` with a customer key). */
  grantRead(grantee: iam.IGrantable, channelName: string): iam.Grant {
    this.bucket.encryptionKey?.grant(grantee, 'kms:Decrypt');
    return this.grantObjects(grantee, channelName, ['s3:GetObject']);
  }

  private grantObjects(grantee: iam.IGrantable, channelName: string, actions: string[]): iam.Grant {
    const pattern = `${this.location(channelName).prefix}*`;
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [this.bucket.arnForObjects(pattern)],
    });
    // Keys are message ids, unknown until run time: the prefix wildcard is the narrowest grant.
    const principal = grantee.grantPrincipal;
    if (principal instanceof iam.Role) {
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
      Validations.of(principal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${pattern}]`,
        reason:
          'Claim keys are message ids, known only at run time; the grant is limited to the objects of this channel.',
      });
    }
    return grant;
  }

  private validateExpiration(): string[] {
    if (!this.expiration) return [];
    const longest = this.retentions.reduce<WiredRetention | undefined>(
      (max, w) => (!max || w.retention.toSeconds() > max.retention.toSeconds() ? w : max),
      undefined,
    );
    if (longest && this.expiration.toSeconds() < longest.retention.toSeconds()) {
      return [
        `${this.node.path}: expiration ${this.expiration.toDays()} days is shorter than the retention of ` +
          `${longest.source} (${longest.retention.toDays({ integral: false })} days): a message could outlive its ` +
          'claim and fail with claim-missing. Omit expiration, or make it longer.',
      ];
    }
    return [];
  }
}
