/** The example app's topology model, built in process without bundling (for docs and drift tests). */
import { App } from 'aws-cdk-lib';
import { toAsyncApi } from '../lib/topology/asyncapi';
import { extractTopology } from '../lib/topology/extract';
import type { TopologyModel } from '../lib/topology/model';
import { FoodDeliveryStack } from './food-delivery-stack';

export const EXAMPLE_STACK_NAME = 'SwitchyardFoodDelivery';

/** The example stack, with asset bundling skipped (the model does not need the bundles). */
export function exampleStack(): FoodDeliveryStack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new FoodDeliveryStack(app, EXAMPLE_STACK_NAME);
}

export function exampleTopology(stack: FoodDeliveryStack = exampleStack()): TopologyModel {
  return extractTopology(stack);
}

export function exampleAsyncApi(model: TopologyModel = exampleTopology()): Record<string, unknown> {
  return toAsyncApi([model], { title: 'Switchyard food-delivery example' });
}
