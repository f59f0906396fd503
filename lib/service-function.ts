/**
 * A Lambda function with Switchyard's defaults: NodejsFunction bundled by the local esbuild
 * (minified, source maps), nodejs22.x on arm64, its own log group with retention, a role that can
 * write only to that log group (no AWSLambdaBasicExecutionRole), X-Ray tracing.
 */
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  DEFAULT_ARCHITECTURE,
  DEFAULT_FUNCTION_TIMEOUT,
  DEFAULT_LOG_RETENTION,
  DEFAULT_MEMORY_SIZE,
  DEFAULT_RUNTIME,
  removalPolicyOf,
} from './defaults';
import { suppressFunctionFindings } from './nag';

export interface ServiceFunctionProps {
  /** Path of the TypeScript entry file, e.g. `example/functions/kitchen.ts`. */
  readonly entry: string;
  /**
   * Exported handler name.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * Extra environment variables.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Function timeout (at most 15 minutes).
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MiB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Runtime.
   * @default lambda.Runtime.NODEJS_22_X
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Architecture.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * X-Ray tracing.
   * @default lambda.Tracing.ACTIVE
   */
  readonly tracing?: lambda.Tracing;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Description of the function.
   * @default - none
   */
  readonly description?: string;
  /**
   * Removal policy of the function's log group.
   * @default - the `switchyard:removalPolicy` context, else RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Ship a source map and start Node with `--enable-source-maps`, so stack traces name the TypeScript
   * source. Off by default (`npm run bench`, messaging-core): the map is ten times the minified bundle
   * (419 KB for a 42 KB consumer), reading it adds about 4 ms of CPU (7%) to the one-type consumer's
   * cold require, and Node documents that reading `Error.stack` slows down with it; a map shipped
   * without the flag is never read by Node, so it would only add to the code package.
   * @default false
   */
  readonly sourceMaps?: boolean;
}

/**
 * A least-privilege Lambda function with Switchyard's defaults.
 *
 * @example
 * const placeOrder = new ServiceFunction(this, 'PlaceOrder', { entry: 'example/functions/place-order.ts' });
 * orders.grantReadWriteData(placeOrder.function);
 */
export class ServiceFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const runtime = props.runtime ?? DEFAULT_RUNTIME;
    const tracing = props.tracing ?? lambda.Tracing.ACTIVE;
    const sourceMaps = props.sourceMaps ?? false;
    this.role = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Role of ${this.node.path}`,
    });
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: removalPolicyOf(this, props.removalPolicy),
    });
    this.logGroup.grantWrite(this.role);
    this.function = new nodejs.NodejsFunction(this, 'Resource', {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      runtime,
      architecture: props.architecture ?? DEFAULT_ARCHITECTURE,
      timeout: props.timeout ?? DEFAULT_FUNCTION_TIMEOUT,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_SIZE,
      tracing,
      role: this.role,
      logGroup: this.logGroup,
      description: props.description,
      environment: sourceMaps
        ? { ...props.environment, NODE_OPTIONS: '--enable-source-maps' }
        : props.environment,
      bundling: {
        minify: true,
        sourceMap: sourceMaps,
        target: 'node22',
      },
    });
    suppressFunctionFindings(this.function, this.role, { runtime, tracing });
  }
}
