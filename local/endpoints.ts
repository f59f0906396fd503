/**
 * The standard AWS SDK endpoint variables. The SDK reads `AWS_ENDPOINT_URL_<SERVICE>` itself, so
 * code under test and local functions reach the emulators with no endpoint in their source.
 */
export interface LocalEndpoints {
  readonly snsSqs: string;
  readonly dynamodb: string;
}

export function endpointEnvironment(endpoints: LocalEndpoints, region = 'us-east-1'): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SNS: endpoints.snsSqs,
    AWS_ENDPOINT_URL_SQS: endpoints.snsSqs,
    // fauxqs serves S3 on the same port (claim-check payloads). The endpoint is an IP address, so
    // the S3 client sends path-style requests (/bucket/key) by itself: no forcePathStyle needed.
    AWS_ENDPOINT_URL_S3: endpoints.snsSqs,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodb,
    // The local cloud's gateway (and LocalStack) serve SSM on the same endpoint as SNS and SQS.
    AWS_ENDPOINT_URL_SSM: endpoints.snsSqs,
    // ... and EventBridge Scheduler (the local cloud's gateway emulates it; LocalStack serves it too).
    AWS_ENDPOINT_URL_SCHEDULER: endpoints.snsSqs,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    // The emulators accept any credentials; these keep the SDK from searching for real ones.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_LOAD_CONFIG: '0',
    // The SDK warns that this machine's Node is older than Lambda's nodejs22.x; locally that says nothing.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
