/**
 * What the templates say about access: roles and their policies, queue/topic policies, KMS keys
 * and their key policies, which key encrypts which queue or topic, and the size/FIFO settings the
 * gateway enforces. Filled by the deployer as it walks each stack's resources.
 */
import { createHash } from 'node:crypto';
import { NAME_LIMITS, physicalName } from '../template/names';
import type { DeployedResource, ResourceContext } from '../template/resources/context';
import type { PolicySet } from './authorizer';
import { canonicalDocument, type NamedPolicy, type PolicyDocument } from './policy-document';

export interface QueueSettings {
  readonly arn: string;
  readonly fifo: boolean;
  /** Bytes; SQS's default is 1 MiB. */
  readonly maximumMessageSize: number;
  readonly kmsKeyArn?: string;
}

export interface TopicSettings {
  readonly arn: string;
  readonly fifo: boolean;
  /** Bytes; SNS accepts 256 KiB unless the topic opts into more (up to 1 MiB). */
  readonly maximumMessageSize: number;
  readonly kmsKeyArn?: string;
}

export interface RoleInfo {
  readonly arn: string;
  readonly name: string;
  readonly policies: NamedPolicy[];
}

/** SQS- or AWS-managed encryption needs no permission on a key the template can grant. */
function customerManagedKey(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (value === 'alias/aws/sqs' || value === 'alias/aws/sns' || value.startsWith('alias/aws/'))
    return undefined;
  return value;
}

export const SQS_DEFAULT_MAXIMUM_MESSAGE_SIZE = 1_048_576;
export const SNS_DEFAULT_MAXIMUM_MESSAGE_SIZE = 262_144;

export class SecurityModel {
  readonly roles = new Map<string, RoleInfo>();
  readonly resourcePolicies = new Map<string, NamedPolicy[]>();
  readonly keyPolicies = new Map<string, NamedPolicy>();
  /** Key aliases (alias/name and its ARN) -> key ARN. */
  readonly aliases = new Map<string, string>();
  readonly queues = new Map<string, QueueSettings>();
  readonly topics = new Map<string, TopicSettings>();
  /** Bucket name -> the customer-managed key of its default SSE-KMS encryption. */
  readonly bucketKeys = new Map<string, string>();
  /** Role name -> ARN, for AWS::IAM::Policy `Roles` (which lists names). */
  private readonly roleNames = new Map<string, string>();
  /** Notes for the start-up listing (AWS managed policies not known locally, ...). */
  readonly notes: string[] = [];

  constructor(readonly accountId: string) {}

  /** Types this model creates from a template (rather than leaving them unemulated). */
  static readonly TYPES = [
    'AWS::IAM::Role',
    'AWS::IAM::Policy',
    'AWS::IAM::ManagedPolicy',
    'AWS::SQS::QueuePolicy',
    'AWS::SNS::TopicPolicy',
    'AWS::S3::BucketPolicy',
    'AWS::KMS::Key',
    'AWS::KMS::Alias',
  ] as const;

  /** Records a policy-type resource; returns what Ref and GetAtt on it resolve to. */
  define(ctx: ResourceContext, props: Record<string, unknown>): DeployedResource {
    const source = (kind: string) => `${kind} ${ctx.logicalId} (stack ${ctx.stack.stackName})`;
    switch (ctx.type) {
      case 'AWS::IAM::Role': {
        const name =
          typeof props.RoleName === 'string'
            ? props.RoleName
            : physicalName(ctx.stack.stackName, ctx.logicalId, NAME_LIMITS.function);
        const arn = `arn:aws:iam::${this.accountId}:role${typeof props.Path === 'string' ? props.Path : '/'}${name}`;
        const policies: NamedPolicy[] = [];
        for (const inline of (props.Policies ?? []) as {
          PolicyName?: string;
          PolicyDocument: PolicyDocument;
        }[])
          policies.push({
            source: source(`inline policy ${inline.PolicyName} of role`),
            document: canonicalDocument(inline.PolicyDocument, ctx.region),
          });
        for (const managed of (props.ManagedPolicyArns ?? []) as string[]) {
          if (String(managed).includes(':iam::aws:policy/')) {
            this.notes.push(
              `AWS managed policy ${managed} of role ${ctx.logicalId} is not known locally; the permissions it grants are not granted in the local cloud.`,
            );
          }
        }
        this.roles.set(arn, { arn, name, policies });
        this.roleNames.set(name, arn);
        return {
          logicalId: ctx.logicalId,
          type: ctx.type,
          physicalName: name,
          ref: name,
          attributes: { Arn: arn, RoleId: name },
        };
      }
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy': {
        const name = String(props.PolicyName ?? props.ManagedPolicyName ?? ctx.logicalId);
        const policy: NamedPolicy = {
          source: source('identity-based policy'),
          document: canonicalDocument(props.PolicyDocument as PolicyDocument, ctx.region),
        };
        for (const roleRef of (props.Roles ?? []) as string[]) {
          const arn =
            this.roleNames.get(String(roleRef)) ?? this.roleNames.get(String(roleRef).split('/').pop() ?? '');
          const role = arn ? this.roles.get(arn) : undefined;
          if (role) role.policies.push(policy);
          else
            ctx.warn(
              `${ctx.logicalId}: role ${roleRef} is not in the app; its policy is not enforced locally.`,
            );
        }
        const arn = `arn:aws:iam::${this.accountId}:policy/${name}`;
        return {
          logicalId: ctx.logicalId,
          type: ctx.type,
          physicalName: name,
          ref: ctx.type === 'AWS::IAM::Policy' ? name : arn,
          attributes: { PolicyArn: arn },
        };
      }
      case 'AWS::SQS::QueuePolicy': {
        const policy: NamedPolicy = {
          source: source('queue policy'),
          document: canonicalDocument(props.PolicyDocument as PolicyDocument, ctx.region),
        };
        for (const url of (props.Queues ?? []) as string[])
          this.attach(queueArnFromUrl(String(url), ctx.region, this.accountId), policy);
        return {
          logicalId: ctx.logicalId,
          type: ctx.type,
          physicalName: ctx.logicalId,
          ref: ctx.logicalId,
          attributes: {},
        };
      }
      case 'AWS::SNS::TopicPolicy': {
        const policy: NamedPolicy = {
          source: source('topic policy'),
          document: canonicalDocument(props.PolicyDocument as PolicyDocument, ctx.region),
        };
        for (const arn of (props.Topics ?? []) as string[]) this.attach(String(arn), policy);
        return {
          logicalId: ctx.logicalId,
          type: ctx.type,
          physicalName: ctx.logicalId,
          ref: ctx.logicalId,
          attributes: {},
        };
      }
      case 'AWS::S3::BucketPolicy': {
        // Attached to the bucket ARN; object requests (arn:aws:s3:::bucket/key) find it through policiesFor.
        const policy: NamedPolicy = {
          source: source('bucket policy'),
          document: canonicalDocument(props.PolicyDocument as PolicyDocument, ctx.region),
        };
        this.attach(`arn:aws:s3:::${String(props.Bucket)}`, policy);
        return {
          logicalId: ctx.logicalId,
          type: ctx.type,
          physicalName: ctx.logicalId,
          ref: ctx.logicalId,
          attributes: {},
        };
      }
      case 'AWS::KMS::Key': {
        // A stable, key-id-shaped id from the stack and logical id (real ids are UUIDs).
        const hex = createHash('sha256').update(`${ctx.stack.stackName}/${ctx.logicalId}`).digest('hex');
        const keyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
        const arn = `arn:aws:kms:${ctx.region}:${this.accountId}:key/${keyId}`;
        this.keyPolicies.set(arn, {
          source: source('key policy of'),
          document: props.KeyPolicy as PolicyDocument,
        });
        return {
          logicalId: ctx.logicalId,
          type: ctx.type,
          physicalName: keyId,
          ref: keyId,
          attributes: { Arn: arn, KeyId: keyId },
        };
      }
      case 'AWS::KMS::Alias': {
        const aliasName = String(props.AliasName);
        const target = this.keyArn(String(props.TargetKeyId));
        if (target) {
          this.aliases.set(aliasName, target);
          this.aliases.set(`arn:aws:kms:${ctx.region}:${this.accountId}:${aliasName}`, target);
        }
        return {
          logicalId: ctx.logicalId,
          type: ctx.type,
          physicalName: aliasName,
          ref: aliasName,
          attributes: {},
        };
      }
      default:
        throw new Error(`SecurityModel cannot define ${ctx.type}.`);
    }
  }

  /** Records the settings of created queues and topics the gateway and authorizer need. */
  observe(ctx: ResourceContext, props: Record<string, unknown>, created: DeployedResource): void {
    if (ctx.type === 'AWS::S3::Bucket') {
      const rules = ((props.BucketEncryption as Record<string, unknown> | undefined)
        ?.ServerSideEncryptionConfiguration ?? []) as {
        ServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: unknown };
      }[];
      const byDefault = rules[0]?.ServerSideEncryptionByDefault;
      const key = byDefault?.SSEAlgorithm?.startsWith('aws:kms')
        ? customerManagedKey(byDefault.KMSMasterKeyID)
        : undefined;
      if (key) this.bucketKeys.set(created.physicalName, key);
      return;
    }
    if (ctx.type === 'AWS::SQS::Queue') {
      const arn = String(created.attributes.Arn);
      this.queues.set(arn, {
        arn,
        fifo: props.FifoQueue === true || props.FifoQueue === 'true',
        maximumMessageSize:
          props.MaximumMessageSize === undefined
            ? SQS_DEFAULT_MAXIMUM_MESSAGE_SIZE
            : Number(props.MaximumMessageSize),
        kmsKeyArn: customerManagedKey(props.KmsMasterKeyId),
      });
    } else if (ctx.type === 'AWS::SNS::Topic') {
      const arn = String(created.attributes.TopicArn);
      const size =
        props.MaximumMessageSize ??
        (props.Attributes as Record<string, unknown> | undefined)?.MaximumMessageSize;
      this.topics.set(arn, {
        arn,
        fifo: props.FifoTopic === true || props.FifoTopic === 'true',
        maximumMessageSize: size === undefined ? SNS_DEFAULT_MAXIMUM_MESSAGE_SIZE : Number(size),
        kmsKeyArn: customerManagedKey(props.KmsMasterKeyId),
      });
    }
  }

  /** Key ARN for a key id, key ARN, alias name or alias ARN. */
  keyArn(reference: string): string | undefined {
    if (this.keyPolicies.has(reference)) return reference;
    const alias = this.aliases.get(reference);
    if (alias) return alias;
    return [...this.keyPolicies.keys()].find((arn) => arn.endsWith(`:key/${reference}`));
  }

  roleForName(name: string): RoleInfo | undefined {
    const arn = this.roleNames.get(name);
    return arn ? this.roles.get(arn) : undefined;
  }

  /** The policies that apply to `resource` for a call by `roleArn` (undefined for service principals). */
  policiesFor(roleArn: string | undefined, resource: string): PolicySet {
    const identity = roleArn ? (this.roles.get(roleArn)?.policies ?? []) : [];
    const keyPolicy = this.keyPolicies.get(resource);
    // An S3 object's resource policy is its bucket's.
    const owner = resource.startsWith('arn:aws:s3:::')
      ? `arn:aws:s3:::${resource.slice(13).split('/')[0]}`
      : resource;
    return { identity, resource: this.resourcePolicies.get(owner) ?? [], keyPolicy };
  }

  private attach(resourceArn: string, policy: NamedPolicy): void {
    this.resourcePolicies.set(resourceArn, [...(this.resourcePolicies.get(resourceArn) ?? []), policy]);
  }
}

/** `http://host/000000000000/orders` -> `arn:aws:sqs:<region>:000000000000:orders`. */
export function queueArnFromUrl(url: string, region: string, accountId: string): string {
  const parts = url
    .replace(/^https?:\/\/[^/]+/, '')
    .split('/')
    .filter(Boolean);
  const name = parts[parts.length - 1] ?? url;
  const account = parts.length >= 2 ? parts[parts.length - 2]! : accountId;
  return `arn:aws:sqs:${region}:${account}:${name}`;
}
