/**
 * Decides a request as IAM does within one account: an explicit Deny in any applicable policy
 * wins; otherwise an Allow in the caller's identity policies or in the resource's policy allows.
 * A KMS key additionally needs its key policy: it must allow the caller itself, or name the
 * account, which delegates the decision to the caller's IAM policies.
 */
import { type ConditionOutcome, evaluateConditions, type UnsupportedCondition } from './conditions';
import {
  actionMatches,
  type Caller,
  type NamedPolicy,
  namesAccountRoot,
  type PolicyStatement,
  principalMatches,
  resourceMatches,
  statementsOf,
} from './policy-document';

export interface AuthorizationRequest {
  readonly caller: Caller;
  /** `service:Action` as IAM names it, e.g. `sqs:SendMessage`. */
  readonly action: string;
  readonly resource: string;
  /** Request context keys, lower-cased (`aws:sourcearn`). */
  readonly context: ReadonlyMap<string, string>;
}

export interface PolicySet {
  readonly identity: readonly NamedPolicy[];
  readonly resource: readonly NamedPolicy[];
  /** Set when the resource is a KMS key: its key policy must also allow. */
  readonly keyPolicy?: NamedPolicy;
}

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

type Match = { statement: PolicyStatement; policy: NamedPolicy };

export class Authorizer {
  private readonly reportedUnsupported = new Set<string>();

  constructor(private readonly onUnsupported: (message: string) => void) {}

  decide(request: AuthorizationRequest, policies: PolicySet): Decision {
    const { caller } = request;
    const resourcePolicies = policies.keyPolicy ? [policies.keyPolicy] : policies.resource;
    const identity = caller.kind === 'role' ? policies.identity : [];
    const deny = this.find('Deny', request, identity, resourcePolicies);
    if (deny) return { allowed: false, reason: `with an explicit deny in ${deny.policy.source}` };
    const identityAllow = this.find('Allow', request, identity, []);
    if (policies.keyPolicy) {
      const keyAllowsCaller = this.find('Allow', request, [], [policies.keyPolicy], false);
      if (keyAllowsCaller) return { allowed: true };
      const delegates =
        caller.kind === 'role' &&
        this.find('Allow', request, [], [policies.keyPolicy], true, (s) =>
          namesAccountRoot(s, caller.accountId),
        );
      if (!delegates)
        return { allowed: false, reason: `because ${policies.keyPolicy.source} does not allow it` };
      if (identityAllow) return { allowed: true };
      return {
        allowed: false,
        reason: `because no identity-based policy allows the ${request.action} action`,
      };
    }
    if (identityAllow) return { allowed: true };
    if (this.find('Allow', request, [], resourcePolicies)) return { allowed: true };
    return {
      allowed: false,
      reason:
        caller.kind === 'role'
          ? `because no identity-based policy allows the ${request.action} action`
          : `because no resource-based policy allows the ${request.action} action`,
    };
  }

  /**
   * First statement of `effect` that applies. Resource-policy statements apply only when their
   * Principal names the caller (or, with `principalTest`, what that test accepts).
   */
  private find(
    effect: 'Allow' | 'Deny',
    request: AuthorizationRequest,
    identity: readonly NamedPolicy[],
    resource: readonly NamedPolicy[],
    includeAccountRoot = true,
    principalTest?: (s: PolicyStatement) => boolean,
  ): Match | undefined {
    const candidates: Match[] = [];
    for (const policy of identity)
      for (const statement of statementsOf(policy.document)) candidates.push({ statement, policy });
    for (const policy of resource) {
      for (const statement of statementsOf(policy.document)) {
        const applies = principalTest
          ? principalTest(statement)
          : principalMatches(statement, request.caller) &&
            (includeAccountRoot ||
              request.caller.kind !== 'role' ||
              !namesAccountRoot(statement, request.caller.accountId));
        if (applies) candidates.push({ statement, policy });
      }
    }
    return candidates.find(
      ({ statement }) =>
        statement.Effect === effect &&
        actionMatches(statement, request.action) &&
        resourceMatches(statement, request.resource) &&
        this.conditionHolds(statement, request, effect),
    );
  }

  private conditionHolds(statement: PolicyStatement, request: AuthorizationRequest, effect: string): boolean {
    const outcome: ConditionOutcome = evaluateConditions(statement.Condition, request.context, (u) =>
      this.reportUnsupported(u),
    );
    // Fail closed: an unsupported condition never grants, and always lets a Deny apply.
    if (outcome === 'unsupported') return effect === 'Deny';
    return outcome === 'match';
  }

  private reportUnsupported(u: UnsupportedCondition): void {
    const key = `${u.operator} ${u.key}`;
    if (this.reportedUnsupported.has(key)) return;
    this.reportedUnsupported.add(key);
    this.onUnsupported(
      `IAM condition ${u.operator} on ${u.key} is not supported by the local cloud: an Allow with it does not apply and a Deny with it does.`,
    );
  }
}
