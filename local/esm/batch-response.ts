/** Reading a function's ReportBatchItemFailures response (shared by the SQS and stream mappings). */

/** What a function's ReportBatchItemFailures response means for the batch. */
export type BatchResponseVerdict =
  | { kind: 'success' }
  | { kind: 'partial'; failedIds: string[] }
  | { kind: 'invalid'; reason: string };

/**
 * Reads `{ batchItemFailures: [{ itemIdentifier }] }` as Lambda documents it: an empty or null list
 * (or a null/empty response) is complete success; an empty, null or unknown itemIdentifier, a bad
 * key name or a response that is not such an object is a complete failure.
 */
export function readBatchItemFailures(
  response: unknown,
  knownIds: ReadonlySet<string>,
): BatchResponseVerdict {
  if (response === null || response === undefined) return { kind: 'success' };
  if (typeof response !== 'object' || Array.isArray(response)) {
    return { kind: 'invalid', reason: `the response is not an object: ${JSON.stringify(response)}` };
  }
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === null || list === undefined) return { kind: 'success' };
  if (!Array.isArray(list)) return { kind: 'invalid', reason: 'batchItemFailures is not a list' };
  const failedIds: string[] = [];
  for (const entry of list) {
    const id =
      entry && typeof entry === 'object' ? (entry as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') {
      return {
        kind: 'invalid',
        reason: `batchItemFailures has an entry without an itemIdentifier: ${JSON.stringify(entry)}`,
      };
    }
    if (!knownIds.has(id)) {
      return { kind: 'invalid', reason: `batchItemFailures names '${id}', which is not in the batch` };
    }
    failedIds.push(id);
  }
  return failedIds.length === 0 ? { kind: 'success' } : { kind: 'partial', failedIds };
}
