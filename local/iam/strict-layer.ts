/**
 * Puts the local cloud behind the authorizing gateway: one endpoint for SNS, SQS, DynamoDB,
 * DynamoDB Streams and SSM; distinct credentials for each function (its role); the template's
 * policies enforced (unless `enforceIam` is false); SNS deliveries checked against queue and key
 * policies; SSM parameters and EventBridge Scheduler schedules kept locally (or upstream, when the cloud
 * runs in front of other endpoints).
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalEndpoints } from '../endpoints';
import { LocalScheduler } from '../scheduler/local-scheduler';
import { MessageMoveTasks } from '../sqs/message-move-tasks';
import { MemoryParameterStore, type ParameterStore, RemoteParameterStore } from '../ssm/parameter-store';
import type { Inventory } from '../template/resources/context';
import type { LocalFunctionDefinition } from '../template/resources/lambda';
import { CredentialRegistry, type FunctionIdentity } from './credentials';
import { AuthorizingGateway, type Denial } from './gateway';
import { SecurityModel } from './security-model';
import { type UndeliverableStats, UndeliverableSubscriptions } from './sns-delivery';

export interface StrictLayerOptions {
  readonly upstream: LocalEndpoints;
  readonly region: string;
  readonly accountId: string;
  /** @default true; `--no-iam` turns it off */
  readonly enforceIam?: boolean;
  /** Told each denial (once per principal, action and resource) and each unsupported condition, as they happen. */
  readonly log?: (line: string) => void;
  /** Keep SSM parameters in this process (embedded emulators) instead of at an upstream that serves SSM. */
  readonly localSsm: boolean;
}

export class StrictLayer {
  readonly model: SecurityModel;
  readonly credentials: CredentialRegistry;
  readonly parameters: ParameterStore;
  readonly unsupportedConditions: string[] = [];
  /** The local EventBridge Scheduler (embedded emulators only; an upstream such as LocalStack serves its own). */
  readonly scheduler?: LocalScheduler;
  private readonly gateway: AuthorizingGateway;
  private readonly moveTasks: MessageMoveTasks;
  private readonly upstreamSqs: SQSClient;
  private undeliverable?: UndeliverableSubscriptions;

  private constructor(
    readonly options: StrictLayerOptions,
    remote: RemoteParameterStore | undefined,
  ) {
    this.model = new SecurityModel(options.accountId);
    this.credentials = new CredentialRegistry(options.accountId);
    const memory = remote ? undefined : new MemoryParameterStore();
    this.parameters = remote ?? memory!;
    // Move tasks act on the upstream directly: the caller was authorized at the gateway.
    this.upstreamSqs = new SQSClient({
      endpoint: options.upstream.snsSqs,
      region: options.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    this.moveTasks = new MessageMoveTasks(this.upstreamSqs);
    this.scheduler = remote
      ? undefined
      : new LocalScheduler({
          region: options.region,
          accountId: options.accountId,
          credentials: this.credentials,
          endpoint: () => this.gateway.endpoint,
          log: options.log,
        });
    this.gateway = new AuthorizingGateway({
      moveTasks: this.moveTasks,
      upstream: options.upstream,
      region: options.region,
      model: this.model,
      credentials: this.credentials,
      enforce: this.enforcing,
      ssm: memory,
      scheduler: this.scheduler,
      onUnsupported: (message) => {
        this.unsupportedConditions.push(message);
        options.log?.(`WARNING: ${message}`);
      },
      onDenial: (denial) => options.log?.(`ACCESS DENIED: ${denial.message}`),
    });
  }

  static async start(options: StrictLayerOptions): Promise<StrictLayer> {
    const layer = new StrictLayer(options, options.localSsm ? undefined : await remoteSsm(options));
    await layer.gateway.start();
    layer.scheduler?.start();
    return layer;
  }

  get enforcing(): boolean {
    return this.options.enforceIam ?? true;
  }

  /** Every service goes through the gateway. */
  get endpoints(): LocalEndpoints {
    return { snsSqs: this.gateway.endpoint, dynamodb: this.gateway.endpoint };
  }

  /** Re-points SNS subscriptions whose delivery AWS would deny (after every stack is deployed). */
  async afterDeploy(clients: { sqs: SQSClient; sns: SNSClient }, inventory: Inventory): Promise<void> {
    if (!this.enforcing) return;
    for (const note of this.model.notes) this.options.log?.(`WARNING: ${note}`);
    this.undeliverable = new UndeliverableSubscriptions(clients, inventory);
    await this.undeliverable.install(this.gateway, this.model, this.options.region);
  }

  /** The identity a function (and its event source mappings) acts with. */
  identityOf(definition: LocalFunctionDefinition): FunctionIdentity | undefined {
    return definition.roleArn ? this.credentials.issue(definition.name, definition.roleArn) : undefined;
  }

  /** Environment a function needs to reach the gateway as its role. */
  functionEnvironment(definition: LocalFunctionDefinition): Record<string, string> {
    const identity = this.identityOf(definition);
    return {
      AWS_ENDPOINT_URL_SSM: this.gateway.endpoint,
      AWS_ENDPOINT_URL_SCHEDULER: this.gateway.endpoint,
      ...(identity ? { AWS_ACCESS_KEY_ID: identity.accessKeyId, AWS_SECRET_ACCESS_KEY: 'local' } : {}),
    };
  }

  /** Would the template's policies let this identity do `action` on `resource`? (recorded like any denial) */
  authorize(identity: FunctionIdentity, action: string, resource: string): Denial | undefined {
    return this.gateway.authorize(this.credentials.callerOf(identity), { action, resource });
  }

  denials(): Denial[] {
    return [...this.gateway.denials.values()];
  }

  undeliverableSubscriptions(): readonly UndeliverableStats[] {
    return this.undeliverable?.stats ?? [];
  }

  async stop(): Promise<void> {
    await this.undeliverable?.stop();
    await this.moveTasks.stop();
    this.upstreamSqs.destroy();
    this.scheduler?.stop();
    await this.gateway.stop();
    if (this.parameters instanceof RemoteParameterStore) this.parameters.destroy();
  }
}

/**
 * The upstream's SSM, when it has one (LocalStack, another local cloud's gateway); fauxqs has
 * none, and then parameters are kept in this process.
 */
async function remoteSsm(options: StrictLayerOptions): Promise<RemoteParameterStore | undefined> {
  const remote = new RemoteParameterStore(options.upstream.snsSqs, options.region);
  try {
    await remote.get('/switchyard/local-cloud/ssm-probe');
    return remote;
  } catch {
    remote.destroy();
    return undefined;
  }
}
