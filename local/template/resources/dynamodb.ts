/** AWS::DynamoDB::Table -> CreateTable (+ UpdateTimeToLive) in DynamoDB Local. */
import {
  type AttributeDefinition,
  type BillingMode,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type LocalSecondaryIndex,
  ResourceInUseException,
  type StreamViewType,
  type TableDescription,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { NAME_LIMITS, physicalName } from '../names';
import { asString, bool, checkProperties, type DeployedResource, type ResourceContext } from './context';

interface Throughput {
  ReadCapacityUnits: number;
  WriteCapacityUnits: number;
}

function throughput(value: unknown): Throughput | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const t = value as Record<string, unknown>;
  return { ReadCapacityUnits: Number(t.ReadCapacityUnits), WriteCapacityUnits: Number(t.WriteCapacityUnits) };
}

function index<T extends GlobalSecondaryIndex | LocalSecondaryIndex>(
  raw: Record<string, unknown>,
  withThroughput: boolean,
): T {
  return {
    IndexName: raw.IndexName,
    KeySchema: raw.KeySchema as KeySchemaElement[],
    Projection: raw.Projection,
    ...(withThroughput && raw.ProvisionedThroughput
      ? { ProvisionedThroughput: throughput(raw.ProvisionedThroughput) }
      : {}),
  } as T;
}

export async function createTable(
  ctx: ResourceContext,
  props: Record<string, unknown>,
): Promise<DeployedResource> {
  checkProperties(
    ctx,
    props,
    [
      'TableName',
      'KeySchema',
      'AttributeDefinitions',
      'BillingMode',
      'ProvisionedThroughput',
      'GlobalSecondaryIndexes',
      'LocalSecondaryIndexes',
      'StreamSpecification',
      'TimeToLiveSpecification',
    ],
    [
      'SSESpecification',
      'PointInTimeRecoverySpecification',
      'Tags',
      'DeletionProtectionEnabled',
      'ContributorInsightsSpecification',
      'TableClass',
      'ResourcePolicy',
      'WarmThroughput',
    ],
  );
  const name =
    props.TableName !== undefined
      ? asString(props.TableName, 'TableName')
      : physicalName(ctx.stack.stackName, ctx.logicalId, NAME_LIMITS.table);
  const billingMode = (props.BillingMode as BillingMode | undefined) ?? 'PROVISIONED';
  const provisioned = billingMode === 'PROVISIONED';
  const stream = props.StreamSpecification as { StreamViewType?: StreamViewType } | undefined;
  let description: TableDescription | undefined;
  try {
    const created = await ctx.clients.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: props.KeySchema as KeySchemaElement[],
        AttributeDefinitions: props.AttributeDefinitions as AttributeDefinition[],
        BillingMode: billingMode,
        ProvisionedThroughput: provisioned
          ? (throughput(props.ProvisionedThroughput) ?? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 })
          : undefined,
        GlobalSecondaryIndexes: (props.GlobalSecondaryIndexes as Record<string, unknown>[] | undefined)?.map(
          (g) => index<GlobalSecondaryIndex>(g, provisioned),
        ),
        LocalSecondaryIndexes: (props.LocalSecondaryIndexes as Record<string, unknown>[] | undefined)?.map(
          (l) => index<LocalSecondaryIndex>(l, false),
        ),
        StreamSpecification: stream?.StreamViewType
          ? { StreamEnabled: true, StreamViewType: stream.StreamViewType }
          : undefined,
      }),
    );
    description = created.TableDescription;
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    // Re-running against a long-lived endpoint (e.g. LocalStack): keep the table, say so.
    ctx.warn(`${ctx.logicalId}: table ${name} already exists in the endpoint; reusing it as is.`);
    description = (await ctx.clients.dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table;
  }
  const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: unknown } | undefined;
  if (ttl?.AttributeName && bool(ttl.Enabled) && !(await timeToLiveEnabled(ctx, name, ttl.AttributeName))) {
    await ctx.clients.dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
      }),
    );
  }
  const arn = description?.TableArn ?? `arn:aws:dynamodb:${ctx.region}:${ctx.accountId}:table/${name}`;
  const streamArn = description?.LatestStreamArn;
  ctx.inventory.tables.push({ logicalId: ctx.logicalId, name, arn, streamArn });
  return {
    logicalId: ctx.logicalId,
    type: ctx.type,
    physicalName: name,
    ref: name,
    attributes: { Arn: arn, ...(streamArn ? { StreamArn: streamArn } : {}) },
  };
}

/** A reused table may have TTL on already; enabling it twice is an error in DynamoDB. */
async function timeToLiveEnabled(ctx: ResourceContext, name: string, attribute: string): Promise<boolean> {
  const { TimeToLiveDescription: current } = await ctx.clients.dynamodb.send(
    new DescribeTimeToLiveCommand({ TableName: name }),
  );
  if (current?.TimeToLiveStatus !== 'ENABLED' && current?.TimeToLiveStatus !== 'ENABLING') return false;
  if (current.AttributeName !== attribute) {
    ctx.warn(
      `table ${name} already has TTL on attribute ${current.AttributeName}; the template asks for ${attribute} (kept as is)`,
    );
  }
  return true;
}
