import { dirname } from 'node:path';

/** The host's node_modules, standing in for the AWS SDK that Lambda's runtime provides. */
export function runtimeNodePath(): string {
  return dirname(dirname(dirname(require.resolve('@aws-sdk/client-sqs/package.json'))));
}
