/**
 * SSM parameters of the local cloud: `AWS::SSM::Parameter` resources are stored here, template
 * references (`{{resolve:ssm:...}}`, `AWS::SSM::Parameter::Value<String>`) read them, and
 * functions reach them through the SSM API the gateway serves. When the local cloud runs in front
 * of other endpoints (LocalStack, another Switchyard local cloud), parameters live there instead.
 */
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

export interface StoredParameter {
  readonly name: string;
  readonly type: 'String' | 'StringList' | 'SecureString';
  readonly value: string;
  readonly version: number;
  readonly lastModified: Date;
}

export interface ParameterStore {
  get(name: string): Promise<StoredParameter | undefined>;
  put(name: string, value: string, type: StoredParameter['type'], overwrite: boolean): Promise<number>;
}

export class ParameterAlreadyExistsError extends Error {
  constructor(name: string) {
    super(`The parameter ${name} already exists. To overwrite it, set Overwrite to true.`);
    this.name = 'ParameterAlreadyExists';
  }
}

/** In-memory parameters, for the embedded emulators. */
export class MemoryParameterStore implements ParameterStore {
  private readonly parameters = new Map<string, StoredParameter>();

  async get(name: string): Promise<StoredParameter | undefined> {
    return this.parameters.get(name);
  }

  async put(name: string, value: string, type: StoredParameter['type'], overwrite: boolean): Promise<number> {
    const existing = this.parameters.get(name);
    if (existing && !overwrite) throw new ParameterAlreadyExistsError(name);
    const version = (existing?.version ?? 0) + 1;
    this.parameters.set(name, { name, type, value, version, lastModified: new Date() });
    return version;
  }

  /** Parameters whose name starts with `path` (GetParametersByPath). */
  byPath(path: string, recursive: boolean): StoredParameter[] {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    return [...this.parameters.values()].filter(
      (p) => p.name.startsWith(prefix) && (recursive || !p.name.slice(prefix.length).includes('/')),
    );
  }
}

/** Parameters kept by an SSM endpoint (LocalStack, or the gateway of another local cloud). */
export class RemoteParameterStore implements ParameterStore {
  private readonly client: SSMClient;

  constructor(endpoint: string, region: string) {
    this.client = new SSMClient({
      endpoint,
      region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }

  async get(name: string): Promise<StoredParameter | undefined> {
    try {
      const { Parameter: p } = await this.client.send(new GetParameterCommand({ Name: name }));
      if (!p) return undefined;
      return {
        name,
        type: (p.Type ?? 'String') as StoredParameter['type'],
        value: p.Value ?? '',
        version: Number(p.Version ?? 1),
        lastModified: p.LastModifiedDate ?? new Date(),
      };
    } catch (error) {
      if ((error as Error).name === 'ParameterNotFound') return undefined;
      throw error;
    }
  }

  async put(name: string, value: string, type: StoredParameter['type'], overwrite: boolean): Promise<number> {
    const out = await this.client.send(
      new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: overwrite }),
    );
    return Number(out.Version ?? 1);
  }

  destroy(): void {
    this.client.destroy();
  }
}
