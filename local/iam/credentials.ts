/**
 * Distinct credentials per local function, so the gateway knows whose role a request carries.
 * Any other access key (the CLI's printed `local`, a user's profile) is an account administrator:
 * the local cloud enforces the app's own roles, not the user's.
 */
import { createHash } from 'node:crypto';
import type { Caller } from './policy-document';

export interface FunctionIdentity {
  readonly accessKeyId: string;
  readonly roleArn: string;
  readonly functionName: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<function>`, how AWS names a function's session. */
  readonly sessionArn: string;
}

export class CredentialRegistry {
  private readonly byKey = new Map<string, FunctionIdentity>();

  constructor(private readonly accountId: string) {}

  /** Issues (or returns) the access key of `functionName` acting with `roleArn`. */
  issue(functionName: string, roleArn: string): FunctionIdentity {
    const digest = createHash('sha256').update(`${functionName}\0${roleArn}`).digest('hex').slice(0, 16);
    const accessKeyId = `ASIALOCAL${digest.toUpperCase()}`;
    const roleName = roleArn.split('/').pop() ?? roleArn;
    const identity = {
      accessKeyId,
      roleArn,
      functionName,
      sessionArn: `arn:aws:sts::${this.accountId}:assumed-role/${roleName}/${functionName}`,
    };
    this.byKey.set(accessKeyId, identity);
    return identity;
  }

  identityOf(accessKeyId: string | undefined): FunctionIdentity | undefined {
    return accessKeyId ? this.byKey.get(accessKeyId) : undefined;
  }

  callerOf(identity: FunctionIdentity): Caller {
    return {
      kind: 'role',
      roleArn: identity.roleArn,
      sessionArn: identity.sessionArn,
      accountId: this.accountId,
    };
  }
}
