/** Options and printing shared by the `local` and `invoke` commands. */
import type { LocalCloud } from '../cloud';
import { endpointEnvironment, type LocalEndpoints } from '../endpoints';
import { LocalCloudError } from '../template/errors';

export interface CloudCommandOptions {
  readonly endpoint?: string;
  readonly snsSqsEndpoint?: string;
  readonly dynamodbEndpoint?: string;
  readonly appDir?: string;
  readonly assembly?: string;
  readonly region?: string;
  /** commander's negation of --no-synth-cache. */
  readonly synthCache?: boolean;
  /** commander's negation of --no-iam. */
  readonly iam?: boolean;
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const consoleOutput: Output = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** `--endpoint URL` for every service, or one per emulator; undefined = start the embedded ones. */
export function endpointsFrom(options: CloudCommandOptions): LocalEndpoints | undefined {
  const snsSqs = options.snsSqsEndpoint ?? options.endpoint;
  const dynamodb = options.dynamodbEndpoint ?? options.endpoint;
  if (!snsSqs && !dynamodb) return undefined;
  if (!snsSqs || !dynamodb) {
    throw new LocalCloudError(
      'Give --endpoint URL (one endpoint for every service, e.g. LocalStack), or both --sns-sqs-endpoint and --dynamodb-endpoint.',
    );
  }
  for (const url of [snsSqs, dynamodb]) {
    if (!/^https?:\/\/[^/]+/.test(url))
      throw new LocalCloudError(`Endpoint "${url}" is not a URL; use e.g. http://127.0.0.1:4566.`);
  }
  return { snsSqs, dynamodb };
}

function counted(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => (n > 1 ? `${item} x${n}` : item)).join(', ');
}

/** What was deployed, what is not emulated (once, grouped by type), warnings and outputs. */
export function printDeployment(cloud: LocalCloud, output: Output): void {
  for (const stack of cloud.stacks) {
    const created = new Map<string, number>();
    for (const r of stack.resources.values()) created.set(r.type, (created.get(r.type) ?? 0) + 1);
    output.out(
      `Stack ${stack.stackName}: ${[...created].map(([t, n]) => `${n} ${t}`).join(', ') || 'nothing to create'}`,
    );
    if (stack.unsupported.size) {
      output.out('  Not emulated (present in the template, no local effect):');
      for (const [type, ids] of [...stack.unsupported].sort()) output.out(`    ${type} (${ids.length})`);
    }
    if (stack.notes.length)
      output.out(`  Ignored properties (no effect on message flow): ${counted(stack.notes)}`);
    for (const warning of stack.warnings) output.err(`  WARNING: ${warning}`);
    const outputs = Object.entries(stack.outputs);
    if (outputs.length) {
      output.out('  Outputs:');
      for (const [name, value] of outputs)
        output.out(`    ${name} = ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    }
  }
}

/** `export AWS_ENDPOINT_URL_...=` lines and every resource's name, URL and ARN. */
export function printEndpointsAndResources(cloud: LocalCloud, output: Output): void {
  output.out('');
  output.out('# Point the AWS CLI or SDK at the local cloud:');
  for (const [key, value] of Object.entries(endpointEnvironment(cloud.endpoints, cloud.region))) {
    if (key !== 'AWS_SDK_LOAD_CONFIG') output.out(`export ${key}=${value}`);
  }
  const { queues, topics, tables } = cloud.inventory;
  output.out('');
  for (const t of topics) output.out(`topic     ${t.name}  ${t.arn}`);
  for (const q of queues) output.out(`queue     ${q.name}  ${q.url}  ${q.arn}`);
  for (const t of tables)
    output.out(`table     ${t.name}  ${t.arn}${t.streamArn ? `  stream ${t.streamArn}` : ''}`);
  for (const f of cloud.functions()) output.out(`function  ${f.name}  (${f.logicalId})`);
}
