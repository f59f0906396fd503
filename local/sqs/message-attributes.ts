import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/**
 * A received message's attributes as SendMessage takes them: received attributes carry empty list
 * fields (StringListValues, BinaryListValues) that SendMessage rejects, so keep type and value only.
 */
export function sendableAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes) return undefined;
  const copy: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    copy[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
    };
  }
  return copy;
}
