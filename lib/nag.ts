/**
 * cdk-nag wiring: the packs every Switchyard stack is checked against, and the few suppressions
 * Switchyard's own constructs need, each with the reason it is safe.
 */
import { Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { DEFAULT_RUNTIME } from './defaults';

/**
 * Registers the AwsSolutions and Serverless cdk-nag packs as validation plugins of `scope` (an App
 * or Stage). Any unacknowledged finding interrupts `cdk synth` with the report.
 *
 * @example
 * const app = new App();
 * new FoodDeliveryStack(app, 'SwitchyardFoodDelivery');
 * applyNagPacks(app);
 */
export function applyNagPacks(scope: IConstruct): void {
  Validations.of(scope).addPlugins(...nagPacks(scope));
}

/** The packs Switchyard checks against; tests call `validateScope(stack)` on each. */
export function nagPacks(scope?: IConstruct): NagPack[] {
  return [new AwsSolutionsChecks(scope, { verbose: true }), new ServerlessChecks(scope, { verbose: true })];
}

/** Suppressions every Switchyard function carries. */
export function suppressFunctionFindings(
  fn: lambda.Function,
  role: iam.Role,
  options: { runtime: lambda.Runtime; tracing: lambda.Tracing },
): void {
  const suppressions = [
    {
      id: 'Serverless-LambdaDLQ',
      reason:
        'Switchyard functions are invoked synchronously (by an SQS event source mapping whose queue has its own DLQ, ' +
        'or by a direct RequestResponse call whose caller sees the error); a Lambda DLQ applies to asynchronous invocations only.',
    },
  ];
  if (options.runtime.name === DEFAULT_RUNTIME.name) {
    const reason =
      'nodejs22.x is the runtime the Switchyard runtime library is built and tested for; a newer runtime is adopted deliberately after testing.';
    suppressions.push({ id: 'AwsSolutions-L1', reason }, { id: 'Serverless-LambdaLatestVersion', reason });
  }
  Validations.of(fn).acknowledge(...suppressions);
  if (options.tracing === lambda.Tracing.ACTIVE) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
    });
  }
}

/** Suppressions of an SQS event source mapping. */
export function suppressEventSourceFindings(scope: IConstruct): void {
  Validations.of(scope).acknowledge({
    id: 'Serverless-LambdaEventSourceMappingDestination',
    reason:
      'SQS event source mappings do not support on-failure destinations; a message that keeps failing moves to ' +
      "the queue's dead-letter queue through its redrive policy.",
  });
}

/** Suppressions of a queue that is itself a dead-letter queue. */
export function suppressDeadLetterQueueFindings(queue: sqs.IQueue): void {
  // Imported queues belong to another stack, which carries its own suppression.
  if (!(queue instanceof sqs.Queue)) return;
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason: 'This queue is itself a dead-letter queue; messages end here for inspection and redrive.',
  });
}
