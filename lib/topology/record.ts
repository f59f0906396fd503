/**
 * `recordTopology(app)`: at synth, writes each stack's topology model into the cloud assembly as
 * stack metadata, where `switchyard asyncapi` and `switchyard diagram` read it.
 */
import { Aspects, type IAspect, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { extractTopology } from './extract';
import { TOPOLOGY_METADATA_TYPE } from './model';

class TopologyRecorder implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof Stack && !node.nested) {
      node.node.addMetadata(TOPOLOGY_METADATA_TYPE, extractTopology(node));
    }
  }
}

/**
 * Records the topology of every stack of `scope` (call once, in the CDK app).
 *
 * @example
 * const app = new App();
 * new FoodDeliveryStack(app, 'SwitchyardFoodDelivery');
 * recordTopology(app);
 * app.synth();
 */
export function recordTopology(scope: IConstruct): void {
  Aspects.of(scope).add(new TopologyRecorder());
}
