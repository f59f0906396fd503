/** Lambda event filtering patterns: each supported operator, and clear errors for the rest. */
import { FilterPatternError } from '../local/esm/errors';
import { compileFilterPatterns } from '../local/esm/event-filter';

const record = {
  eventName: 'MODIFY',
  dynamodb: {
    NewImage: { status: { S: 'Open-Order' }, total: 42, tags: ['red', 'blue'], note: null },
  },
};

const matches = (...patterns: unknown[]) =>
  compileFilterPatterns(patterns.map((p) => JSON.stringify(p)))(record);
const image = (fields: unknown) => ({ dynamodb: { NewImage: fields } });

describe('compileFilterPatterns', () => {
  test('exact values, with list-valued fields matching on any element', () => {
    expect(matches({ eventName: ['INSERT', 'MODIFY'] })).toBe(true);
    expect(matches({ eventName: ['INSERT'] })).toBe(false);
    expect(matches(image({ tags: ['blue'] }))).toBe(true);
    expect(matches(image({ total: [42] }))).toBe(true);
    expect(matches(image({ note: [null] }))).toBe(true);
    expect(matches(image({ status: { S: ['open-order'] } }))).toBe(false);
  });

  test('prefix, suffix and equals-ignore-case', () => {
    expect(matches(image({ status: { S: [{ prefix: 'Open' }] } }))).toBe(true);
    expect(matches(image({ status: { S: [{ prefix: 'Closed' }] } }))).toBe(false);
    expect(matches(image({ status: { S: [{ suffix: '-Order' }] } }))).toBe(true);
    expect(matches(image({ status: { S: [{ 'equals-ignore-case': 'open-order' }] } }))).toBe(true);
  });

  test('anything-but with a value, a list and a prefix; never matches a missing field', () => {
    expect(matches({ eventName: [{ 'anything-but': 'REMOVE' }] })).toBe(true);
    expect(matches({ eventName: [{ 'anything-but': ['MODIFY', 'REMOVE'] }] })).toBe(false);
    expect(matches({ eventName: [{ 'anything-but': { prefix: 'MOD' } }] })).toBe(false);
    expect(matches({ missing: [{ 'anything-but': 'x' }] })).toBe(false);
  });

  test('numeric ranges on numbers only', () => {
    expect(matches(image({ total: [{ numeric: ['>', 40, '<=', 42] }] }))).toBe(true);
    expect(matches(image({ total: [{ numeric: ['<', 10] }] }))).toBe(false);
    expect(matches(image({ total: [{ numeric: ['=', 42] }] }))).toBe(true);
    expect(matches(image({ status: { S: [{ numeric: ['>', 0] }] } }))).toBe(false);
  });

  test('exists true and false', () => {
    expect(matches(image({ total: [{ exists: true }] }))).toBe(true);
    expect(matches(image({ discount: [{ exists: false }] }))).toBe(true);
    expect(matches(image({ discount: [{ exists: true }] }))).toBe(false);
    expect(matches({ dynamodb: { OldImage: { total: [{ exists: false }] } } })).toBe(true);
  });

  test('$or, and several patterns (any pattern matching is enough)', () => {
    expect(matches({ $or: [{ eventName: ['INSERT'] }, image({ total: [{ numeric: ['>', 10] }] })] })).toBe(
      true,
    );
    expect(matches({ $or: [{ eventName: ['INSERT'] }, { eventName: ['REMOVE'] }] })).toBe(false);
    expect(matches({ eventName: ['INSERT'] }, { eventName: ['MODIFY'] })).toBe(true);
    expect(compileFilterPatterns([])(record)).toBe(true);
  });

  test('fails with a clear error for unsupported operators and malformed patterns', () => {
    expect(() => compileFilterPatterns(['{"eventName":[{"wildcard":"MOD*"}]}'])).toThrow(FilterPatternError);
    expect(() => compileFilterPatterns(['{"eventName":[{"cidr":"10.0.0.0/24"}]}'])).toThrow(
      /"cidr" is not supported/,
    );
    expect(() => compileFilterPatterns(['{"eventName":'])).toThrow(/not valid JSON/);
    expect(() => compileFilterPatterns(['{"eventName":[]}'])).toThrow(/must not be empty/);
    expect(() => compileFilterPatterns(['{"a":[{"numeric":[">"]}]}'])).toThrow(/"numeric" needs/);
    expect(() => compileFilterPatterns(['{"$or":[{"a":["x"]}]}'])).toThrow(/at least two/);
  });
});

/**
 * Every example of the Lambda pages "Using event filtering with a DynamoDB event source"
 * (with-ddb-filtering.html, including "Using the Exists operator") and "Control which events Lambda
 * sends to your function" (invocation-eventfiltering.html: the comparison operator table,
 * multi-level filtering, duplicate keys, the SQS and stream body-format tables), with the page's
 * own records and patterns.
 */
describe('AWS documentation examples', () => {
  // with-ddb-filtering.html, "DynamoDB event": the page's sample record.
  const customerRecord = {
    eventID: '1',
    eventVersion: '1.0',
    dynamodb: {
      ApproximateCreationDateTime: '1678831218.0',
      Keys: { CustomerName: { S: 'AnyCompany Industries' } },
      NewImage: {
        AccountManager: { S: 'Pat Candella' },
        PaymentTerms: { S: '60 days' },
        CustomerName: { S: 'AnyCompany Industries' },
      },
      SequenceNumber: '111',
      SizeBytes: 26,
      StreamViewType: 'NEW_IMAGE',
    },
  };
  const passes = (pattern: string, record: unknown, dataKey: 'dynamodb' | 'body' = 'dynamodb') =>
    compileFilterPatterns([pattern], dataKey)(record);

  test('Filtering with table keys', () => {
    const pattern =
      '{ "dynamodb" : { "Keys" : { "CustomerName" : { "S" : [ "AnyCompany Industries" ] } } } }';
    expect(passes(pattern, customerRecord)).toBe(true);
    const other = {
      ...customerRecord,
      dynamodb: { ...customerRecord.dynamodb, Keys: { CustomerName: { S: 'Other' } } },
    };
    expect(passes(pattern, other)).toBe(false);
  });

  test('Filtering with table attributes (either of two account managers)', () => {
    const pattern =
      '{ "dynamodb" : { "NewImage" : { "AccountManager" : { "S" : [ "Pat Candella", "Shirley Rodriguez" ] } } } }';
    expect(passes(pattern, customerRecord)).toBe(true);
    const shirley = {
      dynamodb: { NewImage: { AccountManager: { S: 'Shirley Rodriguez' } } },
    };
    expect(passes(pattern, shirley)).toBe(true);
    expect(passes(pattern, { dynamodb: { NewImage: { AccountManager: { S: 'Terry Whitlock' } } } })).toBe(
      false,
    );
  });

  test('Filtering with Boolean expressions: the duplicate "dynamodb" key keeps only the last value', () => {
    // The DynamoDB page calls this pattern an AND of NewImage and OldImage; the general page's
    // "Duplicate keys" section says Lambda uses only the last value of a duplicate key. Both are
    // AWS's words; we follow the general rule (and say so in the README's conformance table).
    const pattern =
      '{ "dynamodb" : { "NewImage" : { "AccountManager" : { "S" : [ "Pat Candella" ] } } } , "dynamodb" : { "OldImage" : { "AccountManager" : { "S" : [ "Terry Whitlock" ] } } } }';
    const both = {
      dynamodb: {
        NewImage: { AccountManager: { S: 'Pat Candella' } },
        OldImage: { AccountManager: { S: 'Terry Whitlock' } },
      },
    };
    const oldOnly = {
      dynamodb: {
        NewImage: { AccountManager: { S: 'Someone Else' } },
        OldImage: { AccountManager: { S: 'Terry Whitlock' } },
      },
    };
    expect(passes(pattern, both)).toBe(true);
    expect(passes(pattern, oldOnly)).toBe(true);
    expect(passes(pattern, customerRecord)).toBe(false);
  });

  test('numbers are strings in DynamoDB records, so numeric operators never match them', () => {
    const record = { dynamodb: { NewImage: { Total: { N: '42' } } } };
    expect(
      passes('{ "dynamodb": { "NewImage": { "Total": { "N": [ { "numeric": [ ">", 10 ] } ] } } } }', record),
    ).toBe(false);
    expect(passes('{ "dynamodb": { "NewImage": { "Total": { "N": [ "42" ] } } } }', record)).toBe(true);
  });

  describe('Using the Exists operator', () => {
    // The page's table item, as it appears in a stream record's NewImage.
    const item = {
      dynamodb: {
        NewImage: {
          UserID: { S: '12345' },
          Name: { S: 'John Doe' },
          Organizations: { L: [{ S: 'Sales' }, { S: 'Marketing' }, { S: 'Support' }] },
        },
      },
    };

    test('exists on a non-leaf node never returns a match', () => {
      expect(
        passes('{ "dynamodb" : { "NewImage" : { "Organizations" : [ { "exists": true } ] } } }', item),
      ).toBe(false);
    });

    test('exists on the leaf path through the list matches', () => {
      expect(
        passes(
          '{ "dynamodb" : { "NewImage" : {"Organizations": {"L": {"S": [ {"exists": true } ] } } } } }',
          item,
        ),
      ).toBe(true);
      const noOrganizations = { dynamodb: { NewImage: { UserID: { S: '1' } } } };
      expect(
        passes(
          '{ "dynamodb" : { "NewImage" : {"Organizations": {"L": {"S": [ {"exists": true } ] } } } } }',
          noOrganizations,
        ),
      ).toBe(false);
    });

    test('a value inside a list of typed values matches (issue 14: it never did locally)', () => {
      expect(
        passes('{ "dynamodb" : { "NewImage" : {"Organizations": {"L": {"S": [ "Sales" ] } } } } }', item),
      ).toBe(true);
      expect(
        passes('{ "dynamodb" : { "NewImage" : {"Organizations": {"L": {"S": [ "Legal" ] } } } } }', item),
      ).toBe(false);
    });
  });

  describe('comparison operators (invocation-eventfiltering.html)', () => {
    const event = {
      UserID: null,
      LastName: '',
      Name: 'Alice',
      Location: 'New York',
      Day: 'Monday',
      PaymentType: 'Credit',
      Weather: 'Sunny',
      Price: 15,
      ProductName: 'Widget',
      Region: 'us-east-1',
    };
    test.each([
      ['Null', '{ "UserID": [ null ] }', true],
      ['Empty', '{ "LastName": [""] }', true],
      ['Equals', '{ "Name": [ "Alice" ] }', true],
      ['Equals (no match)', '{ "Name": [ "alice" ] }', false],
      ['And', '{ "Location": [ "New York" ], "Day": ["Monday"] }', true],
      ['And (one side fails)', '{ "Location": [ "New York" ], "Day": ["Tuesday"] }', false],
      ['Or', '{ "PaymentType": [ "Credit", "Debit"] }', true],
      ['Not', '{ "Weather": [ { "anything-but": [ "Raining" ] } ] }', true],
      ['Numeric (equals)', '{ "Price": [ { "numeric": [ "=", 100 ] } ] }', false],
      ['Numeric (range)', '{ "Price": [ { "numeric": [ ">", 10, "<=", 20 ] } ] }', true],
      ['Exists', '{ "ProductName": [ { "exists": true } ] }', true],
      ['Does not exist', '{ "ProductName": [ { "exists": false } ] }', false],
      ['Begins with', '{ "Region": [ {"prefix": "us-" } ] }', true],
    ])('%s: %s', (_name, pattern, expected) => {
      expect(passes(pattern, event)).toBe(expected);
    });

    test('Not: a record whose field is the excluded value does not match', () => {
      expect(passes('{ "Weather": [ { "anything-but": [ "Raining" ] } ] }', { Weather: 'Raining' })).toBe(
        false,
      );
    });

    test('the event must contain every field the filter names', () => {
      expect(passes('{ "Name": [ "Alice" ], "Missing": [ "x" ] }', event)).toBe(false);
    });
  });

  test('Filtering examples: metadata and data properties together, numeric range on data', () => {
    const kinesisLike = {
      partitionKey: '1',
      data: { City: 'Seattle', Location: 'Los Angeles', Temperature: 55 },
    };
    expect(passes('{ "partitionKey": [ "1" ], "data": { "Location": [ "Los Angeles" ] }}', kinesisLike)).toBe(
      true,
    );
    expect(passes('{ "partitionKey": [ "2" ], "data": { "Location": [ "Los Angeles" ] }}', kinesisLike)).toBe(
      false,
    );
    expect(passes('{ "data": { "Temperature": [ {"numeric": [ ">", 50, "<=", 60 ] } ]}}', kinesisLike)).toBe(
      true,
    );
    expect(
      passes('{ "data": { "Temperature": [ {"numeric": [ ">", 50, "<=", 60 ] } ]}}', {
        data: { Temperature: 61 },
      }),
    ).toBe(false);
  });

  test('Multi-level filtering on a DynamoDB key', () => {
    const record = {
      dynamodb: {
        Keys: { Id: { N: '101' } },
        NewImage: { Message: { S: 'New item!' }, Id: { N: '101' } },
        SequenceNumber: '111',
        SizeBytes: 26,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
    expect(passes('{ "dynamodb": { "Keys": { "Id": { "N": [ "101" ] } } } }', record)).toBe(true);
    expect(passes('{ "dynamodb": { "Keys": { "Id": { "N": [ "102" ] } } } }', record)).toBe(false);
  });

  test('console example { "a" : [ 1, 2 ] }', () => {
    expect(passes('{ "a" : [ 1, 2 ] }', { a: 2 })).toBe(true);
    expect(passes('{ "a" : [ 1, 2 ] }', { a: 3 })).toBe(false);
  });

  test('Duplicate keys: only the last value for a key is used', () => {
    const pattern =
      '{ "Metadata1": [ "pattern1" ], "data": { "duplicateKey" : ["hello"], "uniqueKey" : ["test123"], "duplicateKey" : ["world"] } }';
    const record = (duplicateKey: string) => ({
      Metadata1: 'pattern1',
      data: { uniqueKey: 'test123', duplicateKey },
    });
    expect(passes(pattern, record('world'))).toBe(true);
    expect(passes(pattern, record('hello'))).toBe(false);
  });

  describe('Properly filtering Amazon SQS messages: body format table', () => {
    const sqsRecord = (body: string) => ({
      messageId: 'm',
      body,
      attributes: { ApproximateReceiveCount: '1' },
    });
    test.each([
      ['plain string body, plain string pattern: filters', 'hello', '{ "body": [ "hello" ] }', true],
      [
        'plain string body, plain string pattern: filters (no match)',
        'hello',
        '{ "body": [ "bye" ] }',
        false,
      ],
      [
        'plain string body, no body pattern: metadata only',
        'hello',
        '{ "attributes": { "ApproximateReceiveCount": [ "1" ] } }',
        true,
      ],
      [
        'plain string body, JSON pattern: dropped',
        'hello',
        '{ "body": { "a": [ { "exists": true } ] } }',
        false,
      ],
      ['JSON body, plain string pattern: dropped', '{"a":"x"}', '{ "body": [ "{\\"a\\":\\"x\\"}" ] }', false],
      [
        'JSON body, no body pattern: metadata only',
        '{"a":"x"}',
        '{ "attributes": { "ApproximateReceiveCount": [ "1" ] } }',
        true,
      ],
      ['JSON body, JSON pattern: filters', '{"a":"x"}', '{ "body": { "a": [ "x" ] } }', true],
      ['JSON body, JSON pattern: filters (no match)', '{"a":"x"}', '{ "body": { "a": [ "y" ] } }', false],
    ])('%s', (_label, body, pattern, expected) => {
      expect(passes(pattern, sqsRecord(body), 'body')).toBe(expected);
    });
  });

  test('a non-JSON pattern for the dynamodb data key is refused at mapping creation', () => {
    expect(() => compileFilterPatterns(['{ "dynamodb": [ "x" ] }'], 'dynamodb')).toThrow(
      /must be a JSON object/,
    );
  });
});
