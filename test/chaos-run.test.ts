/**
 * The CI-sized chaos run, exactly as a user runs it (`npm run chaos`, in a child process with its
 * own emulators): every fault kind injected, at least 5% of SDK request attempts faulted, every
 * invariant holding (checked by business identity), exit code 0, and the report file with exactly
 * its fields. The `ci` profile keeps the full run's rates and injects each kind at its first opportunity, so
 * that a short run injects every kind.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosReport } from '../local/chaos/run';
import { ALL_FAULT_KINDS } from '../local/faults/kinds';

const ORDERS = 40;
const ROOT = join(__dirname, '..');

describe('npm run chaos (CI size)', () => {
  const resultFile = join(mkdtempSync(join(tmpdir(), 'chaos-')), 'chaos.json');
  let exitCode: number | null = null;
  let stdout = '';
  let report: ChaosReport;

  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      execFile(
        process.execPath,
        [
          require.resolve('ts-node/dist/bin.js'),
          '--transpile-only',
          join(ROOT, 'bin', 'chaos.ts'),
          ...['--orders', String(ORDERS), '--seed', '20261130', '--profile', 'ci', '--out', resultFile],
        ],
        { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CI: 'true' } },
        (error, out, err) => {
          exitCode = error ? ((error as { code?: number }).code ?? 1) : 0;
          stdout = `${out}\n${err}`;
          resolve();
        },
      );
    });
    report = JSON.parse(readFileSync(resultFile, 'utf8')) as ChaosReport;
  }, 900_000);

  test('exits 0 with every invariant holding', () => {
    if (exitCode !== 0) console.log(stdout.slice(-6000));
    expect(report.invariants).toEqual({
      lost: 0,
      duplicateEffects: 0,
      orderViolations: 0,
      unexpectedDeadLetters: 0,
    });
    expect(exitCode).toBe(0);
  });

  test('injects every fault kind, and at least 5% of SDK request attempts fail', () => {
    expect(ALL_FAULT_KINDS.filter((kind) => !(report.faults[kind] > 0))).toEqual([]);
    const share = /faulted \d+ \(([\d.]+)%\)/.exec(stdout)?.[1];
    expect(Number(share)).toBeGreaterThanOrEqual(5);
  });

  test('every poison message is in a dead-letter or failure queue with its reason', () => {
    expect(report.deadLettered).toHaveLength(report.faults.poisonMessage);
    for (const letter of report.deadLettered) {
      expect(letter.reason).toMatch(/invalid-json|invalid-payload|not an outbox envelope/);
    }
  });

  test('writes the report with exactly its fields', () => {
    expect(Object.keys(report).sort()).toEqual(
      ['deadLettered', 'durationMs', 'faults', 'invariants', 'orders', 'seed'].sort(),
    );
    expect(report.orders).toBe(ORDERS);
    expect(report.durationMs).toBeGreaterThan(0);
  });
});
