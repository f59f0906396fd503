#!/usr/bin/env node
/** The CDK app: the food-delivery example backbone, checked by cdk-nag on every synth. */
import { App } from 'aws-cdk-lib';
import { FoodDeliveryStack } from '../example/food-delivery-stack';
import { applyNagPacks, recordTopology } from '../lib';

const app = new App();
new FoodDeliveryStack(app, 'SwitchyardFoodDelivery', {
  description: 'Switchyard example: food-delivery backend on a serverless messaging backbone',
});
applyNagPacks(app);
// The AsyncAPI document and the diagram are generated from this record of the constructs.
recordTopology(app);
app.synth();
