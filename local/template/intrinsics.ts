/**
 * Resolves CloudFormation intrinsic functions (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split, Fn::If and conditions, Fn::FindInMap, Fn::ImportValue, Fn::Base64) and pseudo
 * parameters to the local names, ARNs and URLs the deployer recorded.
 *
 * @example
 * const resolver = new IntrinsicResolver({ pseudo, ref: (id) => urls[id], getAtt: (id, a) => attrs[id][a] });
 * resolver.resolve({ 'Fn::Join': ['-', [{ Ref: 'AWS::Region' }, 'x']] }); // 'us-east-1-x'
 */
import { TemplateResolutionError } from './errors';
import type { PseudoParameters } from './types';

/** Ref to AWS::NoValue: the enclosing property or list entry is removed. */
const NO_VALUE = Symbol('AWS::NoValue');

export interface ResolveContext {
  readonly pseudo: PseudoParameters;
  /** Value of `Ref` to a resource or parameter (not pseudo parameters). */
  ref(logicalId: string): unknown;
  /** Value of `Fn::GetAtt` on a resource. */
  getAtt(logicalId: string, attribute: string): unknown;
  readonly conditions?: Record<string, unknown>;
  readonly mappings?: Record<string, Record<string, Record<string, unknown>>>;
  importValue?(name: string): unknown;
}

export class IntrinsicResolver {
  private readonly conditionCache = new Map<string, boolean>();

  constructor(private readonly context: ResolveContext) {}

  /** Resolves every intrinsic inside `value` (deeply). */
  resolve(value: unknown): unknown {
    const result = this.walk(value);
    return result === NO_VALUE ? undefined : result;
  }

  /** Evaluates a named condition of the template's `Conditions` section. */
  condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = this.context.conditions?.[name];
    if (definition === undefined) {
      throw new TemplateResolutionError(
        `Condition "${name}" is not defined in the template's Conditions section.`,
      );
    }
    const result = this.truthy(this.walk(definition), `condition ${name}`);
    this.conditionCache.set(name, result);
    return result;
  }

  private walk(value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((v) => this.walk(v)).filter((v) => v !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Ref') return this.ref(arg);
      if (key === 'Condition' && typeof arg === 'string') return this.condition(arg);
      if (key.startsWith('Fn::')) return this.fn(key, arg);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const resolved = this.walk(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  private ref(arg: unknown): unknown {
    if (typeof arg !== 'string')
      throw new TemplateResolutionError(`Ref expects a name, got ${JSON.stringify(arg)}.`);
    const pseudo = this.pseudo(arg);
    if (pseudo !== undefined) return pseudo;
    return this.context.ref(arg);
  }

  private pseudo(name: string): unknown {
    const p = this.context.pseudo;
    switch (name) {
      case 'AWS::Region':
        return p.region;
      case 'AWS::AccountId':
        return p.accountId;
      case 'AWS::Partition':
        return p.partition;
      case 'AWS::URLSuffix':
        return p.urlSuffix;
      case 'AWS::StackName':
        return p.stackName;
      case 'AWS::StackId':
        return `arn:${p.partition}:cloudformation:${p.region}:${p.accountId}:stack/${p.stackName}/local`;
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        return [];
      default:
        return name.startsWith('AWS::') ? this.fail(`Unknown pseudo parameter ${name}.`) : undefined;
    }
  }

  private fn(name: string, arg: unknown): unknown {
    switch (name) {
      case 'Fn::GetAtt':
        return this.getAtt(arg);
      case 'Fn::Join': {
        const [separator, list] = this.pair(name, arg);
        const items = this.walk(list);
        if (!Array.isArray(items)) return this.fail(`Fn::Join needs a list, got ${JSON.stringify(items)}.`);
        return items.map((i) => this.scalar(i, name)).join(String(this.walk(separator)));
      }
      case 'Fn::Sub':
        return this.sub(arg);
      case 'Fn::Select': {
        const [index, list] = this.pair(name, arg);
        const items = this.walk(list);
        const i = Number(this.walk(index));
        if (!Array.isArray(items) || !Number.isInteger(i) || i < 0 || i >= items.length) {
          return this.fail(`Fn::Select index ${i} is out of range for ${JSON.stringify(items)}.`);
        }
        return items[i];
      }
      case 'Fn::Split': {
        const [separator, source] = this.pair(name, arg);
        return this.scalar(this.walk(source), name).split(String(this.walk(separator)));
      }
      case 'Fn::If': {
        if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string') {
          return this.fail(
            `Fn::If expects [condition, valueIfTrue, valueIfFalse], got ${JSON.stringify(arg)}.`,
          );
        }
        return this.walk(this.condition(arg[0]) ? arg[1] : arg[2]);
      }
      case 'Fn::Equals': {
        const [a, b] = this.pair(name, arg);
        return JSON.stringify(this.walk(a)) === JSON.stringify(this.walk(b));
      }
      case 'Fn::Not':
        return !this.truthy(this.walk(this.list(name, arg)[0]), name);
      case 'Fn::And':
        return this.list(name, arg).every((c) => this.truthy(this.walk(c), name));
      case 'Fn::Or':
        return this.list(name, arg).some((c) => this.truthy(this.walk(c), name));
      case 'Fn::FindInMap': {
        const [map, top, second] = this.list(name, arg).map((a) => String(this.walk(a)));
        const found = this.context.mappings?.[map ?? '']?.[top ?? '']?.[second ?? ''];
        if (found === undefined) return this.fail(`Fn::FindInMap found nothing at ${map}.${top}.${second}.`);
        return found;
      }
      case 'Fn::ImportValue': {
        const exportName = String(this.walk(arg));
        const value = this.context.importValue?.(exportName);
        if (value === undefined) {
          return this.fail(
            `Fn::ImportValue: no deployed stack exports "${exportName}". Deploy the exporting stack too.`,
          );
        }
        return value;
      }
      case 'Fn::Base64':
        return Buffer.from(this.scalar(this.walk(arg), name)).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((z) => `${this.context.pseudo.region}${z}`);
      default:
        return this.fail(`${name} is not supported by the local cloud.`);
    }
  }

  private getAtt(arg: unknown): unknown {
    const [logicalId, attribute] =
      typeof arg === 'string'
        ? [arg.slice(0, arg.indexOf('.')), arg.slice(arg.indexOf('.') + 1)]
        : this.pair('Fn::GetAtt', arg).map((a) => String(this.walk(a)));
    if (!logicalId || !attribute)
      return this.fail(`Fn::GetAtt needs [logicalId, attribute], got ${JSON.stringify(arg)}.`);
    return this.context.getAtt(logicalId, attribute);
  }

  private sub(arg: unknown): string {
    const [template, variables] =
      typeof arg === 'string' ? [arg, {}] : (this.pair('Fn::Sub', arg) as [unknown, Record<string, unknown>]);
    if (typeof template !== 'string')
      return this.fail(`Fn::Sub needs a string, got ${JSON.stringify(template)}.`);
    const vars = variables ?? {};
    return template.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in vars) return this.scalar(this.walk(vars[name]), 'Fn::Sub');
      const pseudo = this.pseudo(name);
      if (pseudo !== undefined) return this.scalar(pseudo, 'Fn::Sub');
      const dot = name.indexOf('.');
      if (dot > 0)
        return this.scalar(this.context.getAtt(name.slice(0, dot), name.slice(dot + 1)), 'Fn::Sub');
      if (!name) return whole;
      return this.scalar(this.context.ref(name), 'Fn::Sub');
    });
  }

  private pair(name: string, arg: unknown): [unknown, unknown] {
    if (!Array.isArray(arg) || arg.length !== 2) {
      return this.fail(`${name} expects a list of two, got ${JSON.stringify(arg)}.`);
    }
    return [arg[0], arg[1]];
  }

  private list(name: string, arg: unknown): unknown[] {
    if (!Array.isArray(arg)) return this.fail(`${name} expects a list, got ${JSON.stringify(arg)}.`);
    return arg;
  }

  private scalar(value: unknown, where: string): string {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      return String(value);
    return this.fail(`${where} needs a string, got ${JSON.stringify(value)}.`);
  }

  private truthy(value: unknown, where: string): boolean {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    return this.fail(`${where} must evaluate to a boolean, got ${JSON.stringify(value)}.`);
  }

  private fail(message: string): never {
    throw new TemplateResolutionError(message);
  }
}

/**
 * Logical ids a value refers to (Ref, Fn::GetAtt, `${X}` / `${X.Attr}` in Fn::Sub), for ordering
 * resource creation. Pseudo parameters are left out.
 */
export function referencedIds(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) referencedIds(v, into);
    return into;
  }
  if (value === null || typeof value !== 'object') return into;
  for (const [key, arg] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'Ref' && typeof arg === 'string' && !arg.startsWith('AWS::')) into.add(arg);
    else if (key === 'Fn::GetAtt') {
      const id = typeof arg === 'string' ? arg.split('.')[0] : Array.isArray(arg) ? arg[0] : undefined;
      if (typeof id === 'string') into.add(id);
    } else if (key === 'Fn::Sub') {
      const template = typeof arg === 'string' ? arg : Array.isArray(arg) ? arg[0] : undefined;
      const vars = Array.isArray(arg) && arg[1] && typeof arg[1] === 'object' ? (arg[1] as object) : {};
      if (typeof template === 'string') {
        for (const m of template.matchAll(/\$\{([^}!][^}]*)\}/g)) {
          const name = (m[1] ?? '').split('.')[0] ?? '';
          if (!name.startsWith('AWS::') && !(name in vars)) into.add(name);
        }
      }
      referencedIds(vars, into);
    } else referencedIds(arg, into);
  }
  return into;
}
