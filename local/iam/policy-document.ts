/**
 * IAM policy documents as CloudFormation templates carry them, and matching of their actions,
 * resources and principals. Wildcards follow IAM: `*` any run of characters, `?` one character;
 * actions match case-insensitively, ARNs case-sensitively.
 */

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Principal?: '*' | Record<string, string | string[]>;
  readonly NotPrincipal?: Record<string, string | string[]>;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement | PolicyStatement[];
}

/** A policy with where it came from, for denial messages. */
export interface NamedPolicy {
  /** e.g. `identity policy PlaceOrderServiceRoleDefaultPolicy` or `queue policy KitchenCommandsPolicy`. */
  readonly source: string;
  readonly document: PolicyDocument;
}

export function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

export function statementsOf(document: PolicyDocument): PolicyStatement[] {
  return Array.isArray(document.Statement) ? document.Statement : [document.Statement];
}

const patternCache = new Map<string, RegExp>();

/** IAM wildcard match: `*` and `?`, the rest literal. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = patternCache.get(key);
  if (!regex) {
    const source = pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    regex = new RegExp(`^${source}$`, ignoreCase ? 'si' : 's');
    patternCache.set(key, regex);
  }
  return regex.test(value);
}

export function actionMatches(statement: PolicyStatement, action: string): boolean {
  if (statement.NotAction !== undefined)
    return !list(statement.NotAction).some((p) => wildcardMatch(p, action, true));
  return list(statement.Action).some((p) => wildcardMatch(p, action, true));
}

export function resourceMatches(statement: PolicyStatement, resource: string): boolean {
  if (statement.NotResource !== undefined)
    return !list(statement.NotResource).some((p) => wildcardMatch(p, resource));
  // A resource policy may leave out Resource: it then means the resource it is attached to.
  if (statement.Resource === undefined) return true;
  return list(statement.Resource).some((p) => wildcardMatch(p, resource));
}

/** Who calls: a role's session, or an AWS service principal acting on its own (SNS delivering to SQS). */
export type Caller =
  | {
      readonly kind: 'role';
      readonly roleArn: string;
      readonly sessionArn: string;
      readonly accountId: string;
    }
  | { readonly kind: 'service'; readonly service: string };

/** Does a resource policy statement's Principal name the caller? */
export function principalMatches(statement: PolicyStatement, caller: Caller): boolean {
  const principal = statement.Principal;
  if (principal === undefined) return false;
  if (principal === '*') return true;
  const aws = list(principal.AWS);
  const service = list(principal.Service);
  if (caller.kind === 'service') return service.includes(caller.service) || aws.includes('*');
  return aws.some(
    (p) =>
      p === '*' ||
      p === caller.roleArn ||
      p === caller.accountId ||
      p === `arn:aws:iam::${caller.accountId}:root` ||
      wildcardMatch(p, caller.roleArn),
  );
}

/** Does the statement name the whole account (delegating to the caller's IAM policies)? */
export function namesAccountRoot(statement: PolicyStatement, accountId: string): boolean {
  const principal = statement.Principal;
  if (principal === undefined || principal === '*') return false;
  return list(principal.AWS).some((p) => p === accountId || p === `arn:aws:iam::${accountId}:root`);
}

/**
 * DynamoDB Local names its tables and streams in region `ddblocal`; templates that build ARNs
 * themselves (imported tables) use the real region. Both are compared in the real region's form.
 */
export function canonicalArn(arn: string, region: string): string {
  return arn.startsWith('arn:aws:dynamodb:ddblocal:') ? `arn:aws:dynamodb:${region}:${arn.slice(26)}` : arn;
}

/** The document with every Resource/NotResource passed through `canonicalArn`. */
export function canonicalDocument(document: PolicyDocument, region: string): PolicyDocument {
  const fix = (value: string | string[] | undefined) =>
    value === undefined
      ? undefined
      : Array.isArray(value)
        ? value.map((v) => canonicalArn(String(v), region))
        : canonicalArn(String(value), region);
  return {
    ...document,
    Statement: statementsOf(document).map((s) => ({
      ...s,
      ...(s.Resource !== undefined ? { Resource: fix(s.Resource) } : {}),
      ...(s.NotResource !== undefined ? { NotResource: fix(s.NotResource) } : {}),
    })),
  };
}
