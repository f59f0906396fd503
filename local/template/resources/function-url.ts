/**
 * AWS::Lambda::Url: a function URL, served locally on a free 127.0.0.1 port. The URL is fixed at
 * deploy time (stack outputs and `Fn::GetAtt Url.FunctionUrl` resolve to it); the LocalCloud
 * starts the server.
 */
import { freePort, LOOPBACK } from '../../ports';
import type { DeployedResource, ResourceContext } from './context';

export interface FunctionUrlDefinition {
  readonly logicalId: string;
  /** Physical name of the target function. */
  readonly functionName: string;
  readonly authType: 'AWS_IAM' | 'NONE';
  readonly port: number;
  readonly url: string;
}

export async function defineFunctionUrl(
  ctx: ResourceContext,
  props: Record<string, unknown>,
  functionArns: ReadonlyMap<string, string>,
): Promise<{ resource: DeployedResource; definition: FunctionUrlDefinition }> {
  const target = String(props.TargetFunctionArn ?? '');
  const functionName = functionArns.get(target) ?? target.split(':').pop() ?? target;
  const authType = props.AuthType === 'NONE' ? 'NONE' : 'AWS_IAM';
  if (props.Cors) ctx.note('AWS::Lambda::Url Cors');
  if (props.InvokeMode === 'RESPONSE_STREAM')
    ctx.note('AWS::Lambda::Url InvokeMode RESPONSE_STREAM (buffered locally)');
  const port = await freePort();
  const url = `http://${LOOPBACK}:${port}/`;
  return {
    resource: {
      logicalId: ctx.logicalId,
      type: ctx.type,
      physicalName: url,
      ref: url,
      attributes: { FunctionUrl: url, FunctionArn: target },
    },
    definition: { logicalId: ctx.logicalId, functionName, authType, port, url },
  };
}
