/**
 * The AsyncAPI 3.0 document generated from the constructs: valid for @asyncapi/parser v3 (offline),
 * SNS 0.1.0 / SQS 0.2.0 bindings, request/reply with reply channel and correlation id, headers and
 * payloads as JSON Schema; the committed docs/asyncapi.json is what the constructs produce today,
 * and the document agrees with the synthesized template (drift check).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { main } from '../bin/cli';
import { FoodDeliveryStack } from '../example/food-delivery-stack';
import { exampleAsyncApi, exampleStack, exampleTopology } from '../example/topology';
import { asyncApiDrift, recordTopology } from '../lib';

const stack = exampleStack();
const model = exampleTopology(stack);
// biome-ignore lint/suspicious/noExplicitAny: the document is checked by value, path by path; a type for each path would restate the AsyncAPI schema the parser already validates.
const doc = exampleAsyncApi(model) as Record<string, any>;
const template = Template.fromStack(stack).toJSON();

async function errorsOf(document: unknown): Promise<string[]> {
  const diagnostics = await new Parser().validate(document as never);
  // Severity 0 is an error; warnings and hints (e.g. a missing license) do not make it invalid.
  return diagnostics
    .filter((d) => d.severity === 0)
    .map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`);
}

describe('switchyard asyncapi', () => {
  test('the example document is valid AsyncAPI 3.0 for @asyncapi/parser v3', async () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(await errorsOf(doc)).toEqual([]);
  });

  test('the parser rejects binding versions AsyncAPI 3.0 does not know (the check can fail)', async () => {
    const broken = structuredClone(doc);
    broken.channels['order-events'].bindings.sns.bindingVersion = '9.9.9';
    expect((await errorsOf(broken)).length).toBeGreaterThan(0);
  });

  test('channels carry their address and SNS 0.1.0 / SQS 0.2.0 bindings', () => {
    expect(doc.channels['order-events']).toMatchObject({
      // CDK names the FIFO topic itself (no hard-coded names): <stack>-<id>-<hash>.fifo.
      address: expect.stringMatching(/^SwitchyardFoodDelivery-OrderEvents-\w+\.fifo$/),
      bindings: {
        sns: {
          bindingVersion: '0.1.0',
          name: expect.stringMatching(/^SwitchyardFoodDelivery-OrderEvents-\w+\.fifo$/),
          ordering: { type: 'FIFO' },
        },
      },
    });
    expect(doc.channels['kitchen-commands']).toMatchObject({
      // A name CDK generates at deploy time is unknown at synth: the logical id stands for it.
      address: expect.stringMatching(/^KitchenCommands[0-9A-F]{8}$/),
      bindings: {
        sqs: {
          bindingVersion: '0.2.0',
          queue: { name: expect.stringMatching(/^KitchenCommands[0-9A-F]{8}$/), fifoQueue: false },
          deadLetterQueue: { name: expect.stringMatching(/^KitchenCommandsDeadLetterQueue[0-9A-F]{8}$/) },
        },
      },
    });
  });

  test('request/reply operations name the reply channel, the reply-to and correlation id locations', () => {
    const send = doc.operations['OrderOutbox_Relay.send.kitchen-commands'];
    expect(send).toMatchObject({
      action: 'send',
      channel: { $ref: '#/channels/kitchen-commands' },
      reply: {
        address: { location: '$message.header#/reply-to' },
        channel: { $ref: '#/channels/order-replies' },
        messages: [{ $ref: '#/channels/order-replies/messages/TicketCreated' }],
      },
    });
    expect(doc.components.messages.CreateTicket.correlationId.location).toBe(
      '$message.header#/correlation-id',
    );
    expect(doc.operations['kitchen.reply.order-replies']).toMatchObject({ action: 'send' });
    // Publish / asynchronous responses: the request goes to a topic, the replies to the gatherer.
    expect(doc.operations['Delivery_OrderApi.send.delivery-quote-requests'].reply.channel.$ref).toBe(
      '#/channels/delivery-quotes-replies',
    );
    // The order API's own request/reply, with its client-side pending-request store.
    expect(doc.operations['Delivery_OrderApi.send.kitchen-queries'].reply.channel.$ref).toBe(
      '#/channels/order-api-replies',
    );
    // A one-way notification has no reply.
    expect(doc.operations['Delivery_Quotes_Outbox_Relay.send.courier-dispatch'].reply).toBeUndefined();
  });

  test('messages have headers and payloads as JSON Schema generated from the zod schemas', () => {
    const created = doc.components.messages.OrderCreated;
    expect(created.payload.schemaFormat).toBe('application/schema+json;version=draft-07');
    expect(created.payload.schema).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['orderId', 'customerId', 'items', 'total']),
      properties: { total: { type: 'number', minimum: 0 } },
    });
    expect(created.headers.schema.properties['message-type']).toEqual({
      type: 'string',
      const: 'OrderCreated',
    });
    expect(created.headers.schema.properties['reply-to']).toBeUndefined();
    expect(doc.components.messages.CreateTicket.headers.schema.required).toContain('reply-to');
  });

  test('subscriptions appear with their filter policies; every consumer has a receive operation', () => {
    const consumers = doc.operations['OrderOutbox_Relay.send.order-events'].bindings.sns.consumers;
    expect(consumers).toEqual([
      expect.objectContaining({
        protocol: 'sqs',
        filterPolicy: { 'message-type': ['OrderCreated', 'OrderApproved'] },
        rawMessageDelivery: true,
      }),
    ]);
    for (const c of model.consumers) expect(doc.operations[`${c.name}.receive`]).toBeDefined();
  });

  test('drift: the document agrees with the synthesized template', () => {
    expect(asyncApiDrift(template, doc)).toEqual([]);
  });

  test('drift: a channel missing from the document or a changed filter policy is reported', () => {
    const stale = structuredClone(doc);
    delete stale.channels['kitchen-events'];
    stale.operations['OrderOutbox_Relay.send.order-events'].bindings.sns.consumers[0].filterPolicy = {
      'message-type': ['OrderCreated'],
    };
    const problems = asyncApiDrift(template, stale);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/topic KitchenEvents[0-9A-F]{8} is deployed but is no channel/),
        expect.stringMatching(/filters .*OrderApproved.* but the document says/),
      ]),
    );
  });

  test('drift: the committed docs/asyncapi.json is what the constructs generate (run `npm run docs`)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '..', 'docs', 'asyncapi.json'), 'utf8'));
    expect(committed).toEqual(doc);
  });

  test('the CLI writes the document from a cloud assembly that recorded its topology', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'switchyard-asyncapi-'));
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    new FoodDeliveryStack(app, 'SwitchyardFoodDelivery');
    recordTopology(app);
    app.synth();
    const out = join(outdir, 'asyncapi.json');
    const lines: string[] = [];
    const code = await main(
      ['asyncapi', '--assembly', outdir, '--out', out, '--title', 'Switchyard food-delivery example'],
      {
        out: (l) => lines.push(l),
        err: (l) => lines.push(l),
      },
    );
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(doc);
  });

  test('the CLI says how to fix an app that records no topology', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'switchyard-asyncapi-'));
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    new FoodDeliveryStack(app, 'SwitchyardFoodDelivery');
    app.synth();
    await expect(
      main(['asyncapi', '--assembly', outdir], { out: () => undefined, err: () => undefined }),
    ).rejects.toThrow(/Call recordTopology\(app\)/);
  });
});
