/**
 * The local cloud enforces the example's own IAM, queue and key policies: the unmodified template
 * runs with no denial, and deleting each kind of grant from the synthesized template makes the run
 * fail with that denial named (principal, action, resource), as AWS would deny it.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { FoodDeliveryStack } from '../example/food-delivery-stack';
import type { Denial } from '../local/iam/gateway';
import type { UndeliverableStats } from '../local/iam/sns-delivery';

const STACK = 'SwitchyardFoodDelivery';

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
type Statement = { Action: string | string[]; Effect: string; Principal?: unknown; Resource?: unknown };

let baseAssembly = '';

beforeAll(() => {
  baseAssembly = mkdtempSync(join(tmpdir(), 'switchyard-strict-iam-'));
  const app = new App({ outdir: baseAssembly });
  new FoodDeliveryStack(app, STACK);
  app.synth();
}, 240_000);

/** A copy of the example's assembly with `edit` applied to its template. */
function assemblyWith(edit: (template: Template) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-strict-iam-edit-'));
  cpSync(baseAssembly, dir, { recursive: true });
  const file = join(dir, `${STACK}.template.json`);
  const template = JSON.parse(readFileSync(file, 'utf8')) as Template;
  edit(template);
  writeFileSync(file, JSON.stringify(template));
  return dir;
}

function resourceId(template: Template, type: string, idPart: string): string {
  const id = Object.keys(template.Resources).find(
    (k) => template.Resources[k]!.Type === type && k.includes(idPart),
  );
  if (!id) throw new Error(`no ${type} with ${idPart} in the example template`);
  return id;
}

/** Removes the actions `drop` from the statements of a policy document. */
function dropActions(document: { Statement: Statement[] }, drop: (action: string) => boolean): void {
  document.Statement = document.Statement.flatMap((s) => {
    const actions = [s.Action].flat().filter((a) => !drop(a));
    return actions.length ? [{ ...s, Action: actions }] : [];
  });
}

function rolePolicy(template: Template, idPart: string): { Statement: Statement[] } {
  return template.Resources[resourceId(template, 'AWS::IAM::Policy', idPart)]!.Properties.PolicyDocument as {
    Statement: Statement[];
  };
}

interface StrictRun {
  readonly result: { readonly ordersCompleted: number };
  readonly denials: Denial[];
  readonly undeliverable: UndeliverableStats[];
}

/** Starts the example from `assemblyDir` on fresh emulators, places two orders, returns the cloud's findings. */
async function run(assemblyDir: string, timeoutMs = 12_000, iam = true): Promise<StrictRun> {
  const script = join(__dirname, 'support', 'strict-run.ts');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      script,
      assemblyDir,
      '2',
      String(timeoutMs),
      iam ? 'iam' : 'no-iam',
    ],
    { cwd: join(__dirname, '..'), maxBuffer: 64 * 1024 * 1024 },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('STRICT-RUN '));
  if (!line) throw new Error(`strict-run printed no report:\n${stdout}`);
  const report = JSON.parse(line.slice('STRICT-RUN '.length)) as {
    ordersCompleted: number;
    denials: Denial[];
    undeliverable: UndeliverableStats[];
  };
  return {
    result: { ordersCompleted: report.ordersCompleted },
    denials: report.denials,
    undeliverable: report.undeliverable,
  };
}

const RELAY_SESSION =
  /assumed-role\/SwitchyardFoodDelivery-OrderOutboxRelayRole[^/]+\/SwitchyardFoodDelivery-OrderOutboxRelay/;

describe('IAM, resource and key policies in the local cloud', () => {
  test('the unmodified example runs with no denial', async () => {
    // A generous deadline: on a loaded 2-core machine a cold worker can miss Lambda's 10 s init
    // timeout, and its message returns after the queue's 120 s visibility timeout. A passing run
    // ends as soon as both orders complete.
    const { result, denials, undeliverable } = await run(baseAssembly, 150_000);
    expect(denials).toEqual([]);
    expect(undeliverable).toEqual([]);
    expect(result.ordersCompleted).toBe(2);
  }, 240_000);

  test("without the relay's sns:Publish, publishing is denied as AWS denies it", async () => {
    const { result, denials } = await run(
      assemblyWith((t) => dropActions(rolePolicy(t, 'OrderOutboxRelayRole'), (a) => a === 'sns:Publish')),
    );
    const denial = denials.find((d) => d.action === 'sns:Publish');
    expect(denial?.principal).toMatch(RELAY_SESSION);
    // CDK names the FIFO topic itself: <stack>-<id>-<hash>.fifo.
    expect(denial?.resource).toMatch(
      /^arn:aws:sns:us-east-1:000000000000:SwitchyardFoodDelivery-OrderEvents-\w+\.fifo$/,
    );
    expect(denial?.message).toMatch(
      /^User: arn:aws:sts::000000000000:assumed-role\/.+ is not authorized to perform: sns:Publish on resource: arn:aws:sns:us-east-1:000000000000:SwitchyardFoodDelivery-OrderEvents-\w+\.fifo because no identity-based policy allows the sns:Publish action$/,
    );
    expect(result.ordersCompleted).toBe(0);
  }, 120_000);

  test("without the relay's KMS permission on the order-events key, publishing is denied by KMS", async () => {
    const { denials } = await run(
      assemblyWith((t) => dropActions(rolePolicy(t, 'OrderOutboxRelayRole'), (a) => a.startsWith('kms:'))),
    );
    const denial = denials.find((d) => d.action.startsWith('kms:'));
    expect(denial?.principal).toMatch(RELAY_SESSION);
    expect(denial?.action).toBe('kms:GenerateDataKey');
    expect(denial?.resource).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\//);
  }, 120_000);

  test("without a consumer's dynamodb:PutItem, or the queue policy statement for SNS, both are denied", async () => {
    const { denials, undeliverable } = await run(
      assemblyWith((t) => {
        dropActions(rolePolicy(t, 'NotificationsHandlerServiceRole'), (a) => a === 'dynamodb:PutItem');
        const queuePolicy = t.Resources[resourceId(t, 'AWS::SQS::QueuePolicy', 'OrderHistoryPolicy')]!
          .Properties.PolicyDocument as { Statement: Statement[] };
        queuePolicy.Statement = queuePolicy.Statement.filter((s) => s.Effect !== 'Allow');
      }),
      // Notifications is four hops from place-order; on a loaded machine that takes a while.
      40_000,
    );
    const putItem = denials.find((d) => d.action === 'dynamodb:PutItem');
    expect(putItem?.principal).toMatch(/assumed-role\/.*NotificationsHandlerServiceRole/);
    expect(putItem?.resource).toMatch(
      /^arn:aws:dynamodb:us-east-1:000000000000:table\/SwitchyardFoodDelivery-NotificationsTable/,
    );
    const delivery = denials.find((d) => d.principal === 'sns.amazonaws.com');
    expect(delivery?.action).toBe('sqs:SendMessage');
    expect(delivery?.resource).toMatch(/OrderHistory8D0E5FC9\.fifo$/);
    expect(delivery?.message).toMatch(/because no resource-based policy allows the sqs:SendMessage action$/);
    // The subscription has a DLQ: the denied deliveries go there, as in AWS.
    const history = undeliverable.find((u) => u.queueArn.includes('OrderHistory8D0E5FC9'));
    expect(history?.toDeadLetterQueue).toBeGreaterThan(0);
  }, 120_000);

  test('--no-iam turns enforcement off: the same missing sns:Publish then goes unnoticed', async () => {
    const { result, denials } = await run(
      assemblyWith((t) => dropActions(rolePolicy(t, 'OrderOutboxRelayRole'), (a) => a === 'sns:Publish')),
      150_000,
      false,
    );
    expect(denials).toEqual([]);
    expect(result.ordersCompleted).toBe(2);
  }, 240_000);

  test("without the stream read permissions, or a consumer's sqs:ReceiveMessage, the mappings are denied polling", async () => {
    const { denials, result } = await run(
      assemblyWith((t) => {
        dropActions(rolePolicy(t, 'OrderOutboxRelayRole'), (a) =>
          ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'].includes(a),
        );
        dropActions(rolePolicy(t, 'KitchenHandlerServiceRole'), (a) => a === 'sqs:ReceiveMessage');
      }),
    );
    // The SQS mapping polls with the function's role, as in AWS.
    const receive = denials.find((d) => d.action === 'sqs:ReceiveMessage');
    expect(receive?.principal).toMatch(/assumed-role\/.*KitchenHandlerServiceRole/);
    expect(receive?.resource).toMatch(
      /^arn:aws:sqs:us-east-1:000000000000:SwitchyardFoodDelivery-KitchenCommands\w+$/,
    );
    const denial = denials.find((d) =>
      /^dynamodb:(DescribeStream|GetShardIterator|GetRecords)$/.test(d.action),
    );
    expect(denial?.principal).toMatch(RELAY_SESSION);
    expect(denial?.resource).toMatch(/table\/SwitchyardFoodDelivery-OrdersTable315BB997\/stream\//);
    expect(result.ordersCompleted).toBe(0);
  }, 120_000);
});
