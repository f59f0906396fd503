/** The idempotency bench suite runs end to end on a tiny workload, and its figures hold together. */
import { idempotencySuite } from '../bench/suites/20-idempotency';
import { dynamodbEndpoint, snsSqsEndpoint } from './support/emulators';

describe('idempotency bench suite', () => {
  it('measures every mode and the Powertools baseline, with exactly-once effects where promised', async () => {
    process.env.BENCH_IDEMPOTENCY_MESSAGES = '20';
    try {
      const result = await idempotencySuite.run({
        snsSqsEndpoint: snsSqsEndpoint(),
        dynamodbEndpoint: dynamodbEndpoint(),
        root: process.cwd(),
        log: () => undefined,
      });
      const modes = result.figures.modes as Record<string, Record<string, unknown>>;
      expect(Object.keys(modes)).toEqual([
        'in-item',
        'transactional',
        'marker',
        'powertools (baseline)',
        'none (reference)',
      ]);
      for (const mode of ['in-item', 'transactional', 'marker', 'powertools (baseline)']) {
        expect(modes[mode]?.effectsExactlyOnce).toBe(true);
      }
      // the no-op reference applies the 2 duplicates too: the workload really has duplicates
      expect(modes['none (reference)']?.counterTotal).toBe(20);
      expect(modes['in-item']?.successfulWriteRequestsPerNewMessage).toBe(1);
      expect(modes.transactional?.successfulWriteRequestsPerNewMessage).toBe(1);
      expect(modes['powertools (baseline)']?.writeRequestsRatioToBaseline).toBe(1);
      expect(result.tables[0]?.rows).toHaveLength(5);
    } finally {
      delete process.env.BENCH_IDEMPOTENCY_MESSAGES;
    }
  });
});
