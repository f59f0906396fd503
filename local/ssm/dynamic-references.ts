/**
 * CloudFormation's SSM references: `{{resolve:ssm:name}}` (optionally `:version`) inside any
 * string, and template parameters of type `AWS::SSM::Parameter::Value<...>` whose value is a
 * parameter name. Both read the local cloud's parameters; a missing one fails the deployment, as
 * CloudFormation does, saying which app must export it.
 */
import { TemplateResolutionError } from '../template/errors';
import type { CfnParameter } from '../template/types';
import type { ParameterStore } from './parameter-store';

const CDK_BOOTSTRAP_VERSION = /^\/cdk-bootstrap\/[^/]+\/version$/;
/** A bootstrap version new enough for every current CDK template's check rule. */
const LOCAL_BOOTSTRAP_VERSION = '30';

const DYNAMIC = /\{\{resolve:ssm:([^}:]+)(?::(\d+))?\}\}/g;

function missing(name: string, where: string): TemplateResolutionError {
  return new TemplateResolutionError(
    `${where} reads SSM parameter ${name}, which does not exist in the local cloud. Deploy the app that ` +
      'writes it first (for example `switchyard local --keep` in that app), then deploy this one into the same ' +
      'local cloud with `--endpoint <its gateway URL>`.',
  );
}

/** Replaces every `{{resolve:ssm:...}}` in `value` (deeply). */
export async function resolveSsmReferences(
  value: unknown,
  store: ParameterStore,
  where: string,
): Promise<unknown> {
  if (typeof value === 'string') {
    const names = [...value.matchAll(DYNAMIC)].map((m) => m[1]!);
    if (names.length === 0) return value;
    const found = new Map<string, string>();
    for (const name of names) {
      const parameter = await store.get(name);
      if (!parameter) throw missing(name, where);
      found.set(name, parameter.value);
    }
    return value.replace(DYNAMIC, (_, name: string) => found.get(name)!);
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveSsmReferences(v, store, where)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await resolveSsmReferences(v, store, where);
    return out;
  }
  return value;
}

/** Values of the template's `AWS::SSM::Parameter::Value<...>` parameters, by parameter name. */
export async function ssmTypedParameters(
  parameters: Record<string, CfnParameter> | undefined,
  store: ParameterStore,
): Promise<Map<string, unknown>> {
  const values = new Map<string, unknown>();
  for (const [name, parameter] of Object.entries(parameters ?? {})) {
    if (!parameter.Type.startsWith('AWS::SSM::Parameter::Value<')) continue;
    const ssmName = String(parameter.Default ?? '');
    let found = await store.get(ssmName);
    if (!found && CDK_BOOTSTRAP_VERSION.test(ssmName)) {
      // The local cloud stands in for a bootstrapped environment: it has the version CDK's rule checks.
      await store.put(ssmName, LOCAL_BOOTSTRAP_VERSION, 'String', false).catch(() => undefined);
      found = await store.get(ssmName);
    }
    if (!found) throw missing(ssmName, `Template parameter ${name}`);
    values.set(name, parameter.Type.includes('List<') ? found.value.split(',') : found.value);
  }
  return values;
}
