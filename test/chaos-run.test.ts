/**
 * The CI-sized chaos run: the example system on its own local cloud (own emulators), every fault
 * kind injected, and every invariant holding, checked by business identity. The rare kinds
 * (timeouts, killed workers, relay kills) get higher rates than the full run so that a run of a
 * few dozen orders still injects each of them.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChaosResult, runChaos } from '../local/chaos/run';
import { ALL_FAULT_KINDS } from '../local/faults/kinds';
import { DEFAULT_FAULT_RATES } from '../local/faults/rates';

const ORDERS = 30;

describe('chaos run (CI size)', () => {
  let result: ChaosResult;
  const resultFile = join(mkdtempSync(join(tmpdir(), 'chaos-')), 'chaos.json');

  beforeAll(async () => {
    result = await runChaos({
      orders: ORDERS,
      seed: 20261130,
      projectDir: join(__dirname, '..'),
      resultFile,
      rates: {
        ...DEFAULT_FAULT_RATES,
        transactionConflict: 0.1,
        partialBatch: 0.3,
        handlerException: 0.04,
        functionTimeout: 0.02,
        workerKill: 0.03,
        relayKill: 0.25,
      },
    });
  }, 600_000);

  test('injects every fault kind, and at least 5% of SDK request attempts fail', () => {
    const notInjected = ALL_FAULT_KINDS.filter((kind) => !(result.report.faults[kind] > 0));
    expect(notInjected).toEqual([]);
    expect(result.faultedSdkCalls / result.sdkCalls).toBeGreaterThanOrEqual(0.05);
  });

  test('no order lost, no effect applied twice, no order violation, only poison dead-lettered', () => {
    expect(result.findings).toMatchObject({
      lost: [],
      duplicateEffects: [],
      orderViolations: [],
      unexpectedDeadLetters: [],
    });
    expect(result.report.invariants).toEqual({
      lost: 0,
      duplicateEffects: 0,
      orderViolations: 0,
      unexpectedDeadLetters: 0,
    });
  });

  test('every poison message is in a dead-letter or failure queue with its reason', () => {
    expect(result.report.deadLettered).toHaveLength(result.report.faults.poisonMessage);
    for (const letter of result.report.deadLettered) {
      expect(letter.reason).toMatch(/invalid-json|invalid-payload|schema|not an outbox envelope|unreadable/i);
    }
  });

  test('writes the report with exactly its fields', () => {
    const written = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(written).sort()).toEqual(
      ['deadLettered', 'durationMs', 'faults', 'invariants', 'orders', 'seed'].sort(),
    );
    expect(written.orders).toBe(ORDERS);
    expect(written.durationMs).toBeGreaterThan(0);
  });
});
