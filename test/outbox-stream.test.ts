import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { isServiceRecord, parseStreamRecord, RELAY_FILTER_PATTERN, unmarshallImage } from '../lambdas/outbox';

const OWN = join(__dirname, 'fixtures', 'streams');
const SHARED = join(__dirname, '..', '..', 'shared', 'aws-events');

/** Loads an event file; SAM's generated samples carry `{{{placeholder}}}` values, filled in here. */
function loadEvent(file: string): DynamoDBStreamEvent {
  const text = readFileSync(file, 'utf8').replace(
    /\{\{\{(\w+)\}\}\}/g,
    (_m, name: string) =>
      ({ region: 'us-east-1', partition: 'aws', account_id: '123456789012', table: 'Example' })[name] ?? name,
  );
  return JSON.parse(text) as DynamoDBStreamEvent;
}

const own = (name: string) => loadEvent(join(OWN, name));

describe('stream record parser', () => {
  it('finds the message of an in-item INSERT', () => {
    const [record] = own('in-item-insert.json').Records;
    const parsed = parseStreamRecord(record!);
    expect(parsed.entries.map((e) => [e.sequence, e.message.type])).toEqual([[1, 'OrderPlaced']]);
    expect(parsed.entries[0]?.message.payload).toEqual({
      orderId: 'o-42',
      total: 12.5,
      lines: [{ sku: 'pizza', qty: 2 }],
    });
    expect(parsed.sequenceNumber).toBe('100000000000000000001');
  });

  it('publishes only messages in NEW_IMAGE and not in OLD_IMAGE of an in-item MODIFY', () => {
    const [record] = own('in-item-modify.json').Records;
    expect(parseStreamRecord(record!).entries.map((e) => e.sequence)).toEqual([2, 3]);
    const [unrelated] = own('in-item-modify-unrelated.json').Records;
    expect(parseStreamRecord(unrelated!)).toMatchObject({ entries: [], skipped: 'no-messages' });
  });

  it('publishes an outbox item on INSERT only, never on the MODIFY that marks it', () => {
    const [insert, modify] = own('outbox-item-insert.json').Records;
    expect(parseStreamRecord(insert!).entries.map((e) => e.message.id)).toEqual([
      '019a0000-0000-7000-8000-000000000001',
    ]);
    expect(parseStreamRecord(modify!).entries).toEqual([]);
  });

  it('ignores the TTL delete of an outbox item, and the filter pattern drops it before the relay', () => {
    const [ttl] = own('outbox-item-ttl-remove.json').Records;
    expect(isServiceRecord(ttl!)).toBe(true);
    expect(parseStreamRecord(ttl!)).toMatchObject({ entries: [], skipped: 'ttl-delete' });
    expect(RELAY_FILTER_PATTERN.eventName).not.toContain(ttl!.eventName);
  });

  it('fails clearly on a MODIFY without OldImage for in-item messages, and on a corrupt envelope', () => {
    const [record] = own('in-item-modify.json').Records;
    const noOld = {
      ...record!,
      dynamodb: { ...record!.dynamodb, OldImage: undefined, StreamViewType: 'NEW_IMAGE' as const },
    };
    expect(() => parseStreamRecord(noOld)).toThrow(/needs StreamViewType NEW_AND_OLD_IMAGES/);
    const corrupt = {
      ...record!,
      dynamodb: {
        ...record!.dynamodb,
        NewImage: { ...record!.dynamodb!.NewImage, _outbox: { L: [{ S: '{not json' }] } },
      },
    };
    expect(() => parseStreamRecord(corrupt)).toThrow(/not JSON/);
  });

  it('unmarshalls every attribute type without losing numbers', () => {
    expect(
      unmarshallImage({
        n: { N: '123456789012345678901234567890' },
        l: { L: [{ S: 'a' }, { NULL: true }, { M: { b: { BOOL: false } } }] },
        ss: { SS: [] },
        b: { B: 'AAEqQQ==' },
      }),
    ).toEqual({ n: '123456789012345678901234567890', l: ['a', null, { b: false }], ss: [], b: 'AAEqQQ==' });
  });
});

const sharedFiles = existsSync(SHARED)
  ? readdirSync(SHARED).filter((f) => f.startsWith('dynamodb-streams'))
  : [];
(sharedFiles.length ? describe : describe.skip)('stream record parser on the shared AWS samples', () => {
  it.each(sharedFiles)('accepts %s (no business item carries outbox messages)', (file) => {
    const event = loadEvent(join(SHARED, file));
    expect(event.Records.length).toBeGreaterThan(0);
    for (const record of event.Records) {
      const parsed = parseStreamRecord(record);
      expect(parsed.entries).toEqual([]);
      expect(parsed.skipped).toEqual(
        isServiceRecord(record) ? 'ttl-delete' : record.eventName === 'REMOVE' ? 'remove' : 'no-messages',
      );
    }
  });
});
