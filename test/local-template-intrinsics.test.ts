// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are CloudFormation Fn::Sub strings, not JS templates
import { creationOrder } from '../local/template/deployer';
import { TemplateResolutionError } from '../local/template/errors';
import { IntrinsicResolver, referencedIds } from '../local/template/intrinsics';
import { physicalName } from '../local/template/names';

const pseudo = {
  region: 'eu-west-1',
  accountId: '000000000000',
  partition: 'aws',
  urlSuffix: 'amazonaws.com',
  stackName: 'Shop',
};
const attributes: Record<string, Record<string, string>> = {
  Queue: { Arn: 'arn:aws:sqs:eu-west-1:000000000000:Shop-Queue', QueueName: 'Shop-Queue' },
  Table: { StreamArn: 'arn:aws:dynamodb:ddblocal:000000000000:table/Shop-Table/stream/1' },
};
const refs: Record<string, string> = {
  Queue: 'http://127.0.0.1:1/000000000000/Shop-Queue',
  Topic: 'arn:aws:sns:eu-west-1:000000000000:Shop-Topic',
};

function resolver(extra: Partial<ConstructorParameters<typeof IntrinsicResolver>[0]> = {}) {
  return new IntrinsicResolver({
    pseudo,
    ref: (id) =>
      refs[id] ??
      (() => {
        throw new TemplateResolutionError(`no ${id}`);
      })(),
    getAtt: (id, attribute) => attributes[id]?.[attribute],
    ...extra,
  });
}

describe('IntrinsicResolver', () => {
  test('resolves Ref to resources and pseudo parameters', () => {
    expect(
      resolver().resolve({ a: { Ref: 'Queue' }, b: { Ref: 'AWS::Region' }, c: [{ Ref: 'AWS::AccountId' }] }),
    ).toEqual({
      a: refs.Queue,
      b: 'eu-west-1',
      c: ['000000000000'],
    });
  });

  test('resolves Fn::GetAtt in list and dotted forms', () => {
    const r = resolver();
    expect(r.resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] })).toBe(attributes.Queue!.Arn);
    expect(r.resolve({ 'Fn::GetAtt': 'Table.StreamArn' })).toBe(attributes.Table!.StreamArn);
  });

  test('resolves Fn::Join with nested intrinsics', () => {
    expect(
      resolver().resolve({
        'Fn::Join': [
          ':',
          [
            'arn',
            { Ref: 'AWS::Partition' },
            'sqs',
            { Ref: 'AWS::Region' },
            { 'Fn::GetAtt': ['Queue', 'QueueName'] },
          ],
        ],
      }),
    ).toBe('arn:aws:sqs:eu-west-1:Shop-Queue');
  });

  test('resolves Fn::Sub in string form (pseudo, Ref, GetAtt, escaped literal)', () => {
    expect(
      resolver().resolve({
        'Fn::Sub': '${AWS::StackName}/${Topic}/${Queue.QueueName}/${!Literal}/${AWS::URLSuffix}',
      }),
    ).toBe(`Shop/${refs.Topic}/Shop-Queue/\${Literal}/amazonaws.com`);
  });

  test('resolves Fn::Sub in list form with its own variables', () => {
    expect(
      resolver().resolve({
        'Fn::Sub': ['${Name}-${AWS::Region}', { Name: { 'Fn::GetAtt': ['Queue', 'QueueName'] } }],
      }),
    ).toBe('Shop-Queue-eu-west-1');
  });

  test('resolves Fn::Select over Fn::Split', () => {
    expect(
      resolver().resolve({ 'Fn::Select': [5, { 'Fn::Split': [':', { 'Fn::GetAtt': ['Queue', 'Arn'] }] }] }),
    ).toBe('Shop-Queue');
  });

  test('evaluates conditions in Fn::If and drops AWS::NoValue', () => {
    const r = resolver({
      conditions: {
        IsEu: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] },
        NotEu: { 'Fn::Not': [{ Condition: 'IsEu' }] },
        Both: { 'Fn::And': [{ Condition: 'IsEu' }, { Condition: 'NotEu' }] },
      },
    });
    expect(
      r.resolve({
        x: { 'Fn::If': ['IsEu', 'yes', 'no'] },
        y: { 'Fn::If': ['NotEu', 'set', { Ref: 'AWS::NoValue' }] },
      }),
    ).toEqual({ x: 'yes' });
    expect(r.condition('Both')).toBe(false);
    expect(r.resolve([1, { 'Fn::If': ['Both', 2, { Ref: 'AWS::NoValue' }] }, 3])).toEqual([1, 3]);
  });

  test('resolves Fn::FindInMap and Fn::ImportValue', () => {
    const r = resolver({
      mappings: { Sizes: { 'eu-west-1': { Batch: 5 } } },
      importValue: (name) => (name === 'Shared-TopicArn' ? refs.Topic : undefined),
    });
    expect(r.resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'AWS::Region' }, 'Batch'] })).toBe(5);
    expect(r.resolve({ 'Fn::ImportValue': 'Shared-TopicArn' })).toBe(refs.Topic);
  });

  test('fails with a clear message for an unknown function, a bad Select index and a missing import', () => {
    const r = resolver();
    expect(() => r.resolve({ 'Fn::Transmogrify': [] })).toThrow(/Fn::Transmogrify is not supported/);
    expect(() => r.resolve({ 'Fn::Select': [9, ['a']] })).toThrow(/out of range/);
    expect(() => r.resolve({ 'Fn::ImportValue': 'Nope' })).toThrow(/no deployed stack exports "Nope"/);
    expect(() => r.condition('Missing')).toThrow(/Condition "Missing" is not defined/);
  });
});

describe('referencedIds and creationOrder', () => {
  test('finds ids in Ref, GetAtt and Sub, but not pseudo parameters or Sub variables', () => {
    const ids = referencedIds({
      a: { Ref: 'Topic' },
      b: { 'Fn::GetAtt': ['Dlq', 'Arn'] },
      c: { 'Fn::Sub': ['${Fn}-${Own}-${AWS::Region}-${Table.Arn}', { Own: 'x' }] },
    });
    expect([...ids].sort()).toEqual(['Dlq', 'Fn', 'Table', 'Topic']);
  });

  test('orders dependencies first and reports cycles', () => {
    const order = creationOrder(
      {
        Sub: {
          Type: 'AWS::SNS::Subscription',
          Properties: { TopicArn: { Ref: 'Topic' }, Endpoint: { 'Fn::GetAtt': ['Queue', 'Arn'] } },
        },
        Queue: {
          Type: 'AWS::SQS::Queue',
          Properties: { RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } } },
        },
        Topic: { Type: 'AWS::SNS::Topic' },
        Dlq: { Type: 'AWS::SQS::Queue', DependsOn: 'Topic' },
      },
      () => true,
    );
    expect(order.indexOf('Dlq')).toBeLessThan(order.indexOf('Queue'));
    expect(order.indexOf('Topic')).toBeLessThan(order.indexOf('Dlq'));
    expect(order.indexOf('Queue')).toBeLessThan(order.indexOf('Sub'));
    expect(() =>
      creationOrder({ A: { Type: 'X', DependsOn: 'B' }, B: { Type: 'X', DependsOn: 'A' } }, () => true),
    ).toThrow(/Circular reference between resources: A -> B -> A/);
  });
});

describe('physicalName', () => {
  test('keeps short names and the .fifo suffix, hashes long ones within the limit', () => {
    expect(physicalName('Shop', 'Orders', 80, true)).toBe('Shop-Orders.fifo');
    const long = physicalName('S'.repeat(70), 'OrdersQueueABCDEF', 80, true);
    expect(long.length).toBe(80);
    expect(long.endsWith('.fifo')).toBe(true);
    expect(physicalName('S'.repeat(70), 'OrdersQueueABCDEF', 80, true)).toBe(long);
  });
});
