/**
 * Deploys one synthesized stack into the emulators: creates every supported resource in
 * dependency order, lists every resource type it does not emulate, and resolves the outputs.
 *
 * @example
 * const inventory = emptyInventory();
 * for (const stack of readCloudAssembly(dir)) {
 *   const deployed = await deployStack(stack, { clients, inventory, region: 'us-east-1', exports });
 *   console.log(deployed.outputs);
 * }
 */
import { SecurityModel } from '../iam/security-model';
import { resolveSsmReferences, ssmTypedParameters } from '../ssm/dynamic-references';
import type { ParameterStore } from '../ssm/parameter-store';
import { DeployError, TemplateResolutionError } from './errors';
import { IntrinsicResolver, referencedIds } from './intrinsics';
import { NAME_LIMITS, physicalName } from './names';
import type { DeployClients, DeployedResource, Inventory, ResourceContext } from './resources/context';
import { createTable } from './resources/dynamodb';
import { defineFunctionUrl, type FunctionUrlDefinition } from './resources/function-url';
import {
  defineEventSourceMapping,
  defineFunction,
  defineScheduleRule,
  type LocalFunctionDefinition,
  type MappingDefinition,
  type ScheduleDefinition,
} from './resources/lambda';
import { createBucket } from './resources/s3';
import { createSubscription, createTopic } from './resources/sns';
import { createQueue } from './resources/sqs';
import type { AssemblyStack, CfnResource } from './types';

/** Resource types the local cloud creates or runs. */
export const SUPPORTED_TYPES = [
  'AWS::SNS::Topic',
  'AWS::SQS::Queue',
  'AWS::SNS::Subscription',
  'AWS::DynamoDB::Table',
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Events::Rule',
  'AWS::Lambda::Url',
  'AWS::S3::Bucket',
] as const;

/** Template-only types that never change local behaviour (CDK bookkeeping). */
const SILENT_TYPES = new Set(['AWS::CDK::Metadata']);

export interface DeployOptions {
  readonly clients: DeployClients;
  /** Shared across the stacks of one app, for cross-stack ARN look-ups. */
  readonly inventory: Inventory;
  readonly region: string;
  /** @default '000000000000' (the emulators' account) */
  readonly accountId?: string;
  /** Export name -> value, filled by earlier stacks for Fn::ImportValue. */
  readonly exports?: Map<string, unknown>;
  /** Records roles, policies and keys for the authorizing gateway; without it they are not emulated. */
  readonly security?: SecurityModel;
  /** Stores AWS::SSM::Parameter and resolves SSM references; without it they are not emulated. */
  readonly parameters?: ParameterStore;
  /** Creates AWS::Scheduler::ScheduleGroup (the local EventBridge Scheduler); without it they are not emulated. */
  readonly scheduleGroups?: { createGroup(name: string): string };
}

export interface DeployedStack {
  readonly stackName: string;
  readonly resources: ReadonlyMap<string, DeployedResource>;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly functions: readonly LocalFunctionDefinition[];
  readonly mappings: readonly MappingDefinition[];
  readonly schedules: readonly ScheduleDefinition[];
  /** Function URLs, served on 127.0.0.1 by the LocalCloud. */
  readonly functionUrls: readonly FunctionUrlDefinition[];
  /** Type -> logical ids of resources that are not emulated. */
  readonly unsupported: ReadonlyMap<string, readonly string[]>;
  readonly warnings: readonly string[];
  readonly notes: readonly string[];
}

export function emptyInventory(): Inventory {
  return { queues: [], topics: [], subscriptions: [], tables: [] };
}

/** Orders supported resources so each comes after those it refers to (Ref, GetAtt, Sub, DependsOn). */
export function creationOrder(
  resources: Record<string, CfnResource>,
  include: (id: string) => boolean,
): string[] {
  const ids = Object.keys(resources).filter(include);
  const wanted = new Set(ids);
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      throw new TemplateResolutionError(
        `Circular reference between resources: ${[...path, id].join(' -> ')}.`,
      );
    }
    state.set(id, 'visiting');
    const resource = resources[id]!;
    const dependsOn = resource.DependsOn === undefined ? [] : [resource.DependsOn].flat();
    for (const dependency of [...referencedIds(resource.Properties ?? {}), ...dependsOn]) {
      if (wanted.has(dependency) && dependency !== id) visit(dependency, [...path, id]);
    }
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of ids) visit(id, []);
  return order;
}

function serviceOf(type: string): string {
  return (type.split('::')[1] ?? 'unknown').toLowerCase();
}

export async function deployStack(stack: AssemblyStack, options: DeployOptions): Promise<DeployedStack> {
  const region = options.region;
  const accountId = options.accountId ?? '000000000000';
  const template = stack.template;
  const resources = template.Resources ?? {};
  const deployed = new Map<string, DeployedResource>();
  const warnings: string[] = [];
  const notes: string[] = [];
  const unsupported = new Map<string, string[]>();
  const functions: LocalFunctionDefinition[] = [];
  const mappings: MappingDefinition[] = [];
  const functionUrls: FunctionUrlDefinition[] = [];
  const schedules: ScheduleDefinition[] = [];
  const functionArns = new Map<string, string>();
  const supportedTypes: readonly string[] = [
    ...SUPPORTED_TYPES,
    ...(options.security ? SecurityModel.TYPES : []),
    ...(options.parameters ? ['AWS::SSM::Parameter'] : []),
    ...(options.scheduleGroups ? ['AWS::Scheduler::ScheduleGroup'] : []),
  ];
  const ssmParameters = options.parameters
    ? await ssmTypedParameters(template.Parameters, options.parameters)
    : new Map<string, unknown>();

  // Resources with no local effect (IAM roles, KMS keys...) still need a name and ARN for references.
  const unemulatedIdentity = (logicalId: string): DeployedResource => {
    const type = resources[logicalId]!.Type;
    const name = physicalName(stack.stackName, logicalId, NAME_LIMITS.function);
    return {
      logicalId,
      type,
      physicalName: name,
      ref: name,
      attributes: { Arn: `arn:aws:${serviceOf(type)}:${region}:${accountId}:${name}` },
    };
  };
  const parameterValue = (name: string): unknown => {
    const parameter = template.Parameters?.[name];
    if (!parameter) return undefined;
    if (ssmParameters.has(name)) return ssmParameters.get(name);
    if (parameter.Default !== undefined) return parameter.Default;
    throw new TemplateResolutionError(
      `Parameter ${name} has no default; the local cloud cannot prompt for it. Give it a default value.`,
    );
  };
  const resourceOf = (logicalId: string): DeployedResource => {
    const found = deployed.get(logicalId);
    if (found) return found;
    if (resources[logicalId]) {
      if (supportedTypes.includes(resources[logicalId]!.Type)) {
        throw new TemplateResolutionError(
          `${logicalId} is referenced before it exists (it was not created locally).`,
        );
      }
      return unemulatedIdentity(logicalId);
    }
    throw new TemplateResolutionError(
      `Reference to ${logicalId}, which is neither a resource nor a parameter.`,
    );
  };
  const resolver = new IntrinsicResolver({
    pseudo: { region, accountId, partition: 'aws', urlSuffix: 'amazonaws.com', stackName: stack.stackName },
    conditions: template.Conditions,
    mappings: template.Mappings,
    ref: (id) => parameterValue(id) ?? resourceOf(id).ref,
    getAtt: (id, attribute) => {
      const resource = resourceOf(id);
      if (attribute in resource.attributes) return resource.attributes[attribute];
      if (!supportedTypes.includes(resource.type)) return `${resource.physicalName}.${attribute}`;
      throw new TemplateResolutionError(
        `Fn::GetAtt ${id}.${attribute}: ${resource.type} has only ${Object.keys(resource.attributes).join(', ')} locally.`,
      );
    },
    importValue: (name) => options.exports?.get(name),
  });

  const active = (id: string): boolean => {
    const condition = resources[id]!.Condition;
    return condition === undefined || resolver.condition(condition);
  };
  for (const [id, resource] of Object.entries(resources)) {
    if (SILENT_TYPES.has(resource.Type) || supportedTypes.includes(resource.Type)) continue;
    if (!active(id)) continue;
    unsupported.set(resource.Type, [...(unsupported.get(resource.Type) ?? []), id]);
  }

  const order = creationOrder(resources, (id) => supportedTypes.includes(resources[id]!.Type) && active(id));
  for (const logicalId of order) {
    const resource = resources[logicalId]!;
    const cdkPath = resource.Metadata?.['aws:cdk:path'];
    const ctx: ResourceContext = {
      stack,
      logicalId,
      type: resource.Type,
      region,
      accountId,
      clients: options.clients,
      inventory: options.inventory,
      constructPath: typeof cdkPath === 'string' ? cdkPath : undefined,
      warn: (m) => warnings.push(m),
      note: (m) => notes.push(m),
    };
    try {
      let props = resolver.resolve(resource.Properties ?? {}) as Record<string, unknown>;
      if (options.parameters)
        props = (await resolveSsmReferences(props, options.parameters, logicalId)) as Record<string, unknown>;
      let created: DeployedResource | undefined;
      switch (resource.Type) {
        case 'AWS::SNS::Topic':
          created = await createTopic(ctx, props);
          break;
        case 'AWS::SQS::Queue':
          created = await createQueue(ctx, props);
          break;
        case 'AWS::SNS::Subscription':
          created = (await createSubscription(ctx, props)) ?? unemulatedIdentity(logicalId);
          break;
        case 'AWS::DynamoDB::Table':
          created = await createTable(ctx, props);
          break;
        case 'AWS::S3::Bucket':
          created = await createBucket(ctx, props);
          break;
        case 'AWS::Lambda::Function': {
          const { resource: r, definition } = defineFunction(ctx, props);
          if (definition) functions.push(definition);
          functionArns.set(String(r.attributes.Arn), r.physicalName);
          created = r;
          break;
        }
        case 'AWS::Lambda::EventSourceMapping': {
          const { resource: r, definition } = defineEventSourceMapping(ctx, props, functions);
          if (definition) mappings.push(definition);
          created = r;
          break;
        }
        case 'AWS::SSM::Parameter': {
          const name =
            props.Name !== undefined
              ? String(props.Name)
              : `CFN-${physicalName(stack.stackName, logicalId, 100)}`;
          const type = String(props.Type ?? 'String') as 'String' | 'StringList';
          await options.parameters!.put(name, String(props.Value), type, true);
          created = {
            logicalId,
            type: resource.Type,
            physicalName: name,
            ref: name,
            attributes: { Type: type, Value: props.Value },
          };
          break;
        }
        case 'AWS::Scheduler::ScheduleGroup': {
          const name =
            props.Name !== undefined ? String(props.Name) : physicalName(stack.stackName, logicalId, 64);
          const arn = options.scheduleGroups!.createGroup(name);
          created = {
            logicalId,
            type: resource.Type,
            physicalName: name,
            ref: name,
            attributes: { Arn: arn, State: 'ACTIVE' },
          };
          break;
        }
        case 'AWS::Lambda::Url': {
          const { resource: r, definition } = await defineFunctionUrl(ctx, props, functionArns);
          functionUrls.push(definition);
          created = r;
          break;
        }
        case 'AWS::Events::Rule': {
          const { resource: r, definitions } = defineScheduleRule(ctx, props, functionArns);
          schedules.push(...definitions);
          created = r;
          break;
        }
      }
      if (created) {
        deployed.set(logicalId, created);
        options.security?.observe(ctx, props, created);
      } else if (options.security && (SecurityModel.TYPES as readonly string[]).includes(resource.Type)) {
        deployed.set(logicalId, options.security.define(ctx, props));
      }
    } catch (error) {
      throw new DeployError(logicalId, resource.Type, error);
    }
  }

  const outputs: Record<string, unknown> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    if (output.Condition && !resolver.condition(output.Condition)) continue;
    const value = resolver.resolve(output.Value);
    outputs[name] = value;
    if (output.Export) options.exports?.set(String(resolver.resolve(output.Export.Name)), value);
  }
  return {
    stackName: stack.stackName,
    resources: deployed,
    outputs,
    functions,
    mappings,
    schedules,
    functionUrls,
    unsupported,
    warnings,
    notes,
  };
}
