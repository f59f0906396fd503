/**
 * The SSM API operations functions use (GetParameter, GetParameters, GetParametersByPath,
 * PutParameter), answered from a MemoryParameterStore in SSM's JSON wire format.
 */
import type { ServiceError } from '../iam/aws-errors';
import {
  type MemoryParameterStore,
  ParameterAlreadyExistsError,
  type StoredParameter,
} from './parameter-store';

export type SsmAnswer =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly error: ServiceError };

function wire(p: StoredParameter, region: string, accountId: string): Record<string, unknown> {
  return {
    Name: p.name,
    Type: p.type,
    Value: p.value,
    Version: p.version,
    LastModifiedDate: p.lastModified.getTime() / 1000,
    ARN: `arn:aws:ssm:${region}:${accountId}:parameter/${p.name.replace(/^\//, '')}`,
    DataType: 'text',
  };
}

export async function answerSsm(
  operation: string,
  input: Record<string, unknown>,
  store: MemoryParameterStore,
  region: string,
  accountId: string,
): Promise<SsmAnswer> {
  switch (operation) {
    case 'GetParameter': {
      const name = String(input.Name ?? '');
      const found = await store.get(name);
      if (!found)
        return { ok: false, error: { code: 'ParameterNotFound', message: `Parameter ${name} not found.` } };
      return { ok: true, body: { Parameter: wire(found, region, accountId) } };
    }
    case 'GetParameters': {
      const names = (input.Names ?? []) as string[];
      if (names.length > 10) {
        return {
          ok: false,
          error: {
            code: 'ValidationException',
            message: `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`,
          },
        };
      }
      const parameters: Record<string, unknown>[] = [];
      const invalid: string[] = [];
      for (const name of names) {
        const found = await store.get(name);
        if (found) parameters.push(wire(found, region, accountId));
        else invalid.push(name);
      }
      return { ok: true, body: { Parameters: parameters, InvalidParameters: invalid } };
    }
    case 'GetParametersByPath': {
      const found = store.byPath(String(input.Path ?? '/'), input.Recursive === true);
      return { ok: true, body: { Parameters: found.map((p) => wire(p, region, accountId)) } };
    }
    case 'PutParameter': {
      try {
        const version = await store.put(
          String(input.Name),
          String(input.Value),
          (input.Type as StoredParameter['type']) ?? 'String',
          input.Overwrite === true,
        );
        return { ok: true, body: { Version: version, Tier: 'Standard' } };
      } catch (error) {
        if (error instanceof ParameterAlreadyExistsError)
          return { ok: false, error: { code: 'ParameterAlreadyExists', message: error.message } };
        throw error;
      }
    }
    default:
      return {
        ok: false,
        error: {
          code: 'UnsupportedOperation',
          message: `SSM ${operation} is not emulated by the local cloud (GetParameter, GetParameters, GetParametersByPath and PutParameter are).`,
        },
      };
  }
}
