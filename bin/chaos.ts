/**
 * `npm run chaos -- --orders N --seed S`: the fault-injection run of the example system on the
 * local cloud. Prints the report, writes bench/chaos.json, exits 1 when an invariant breaks.
 */
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { type ChaosResult, runChaos } from '../local/chaos/run';
import { CI_FAULT_RATES, DEFAULT_FAULT_RATES } from '../local/faults/rates';
import { consoleProgress } from '../local/workload/progress';

function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`"${value}" is not a whole number of at least ${min}.`);
    return n;
  };
}

export function formatChaosResult(result: ChaosResult): string[] {
  const { report, findings } = result;
  const share = result.sdkCalls ? (100 * result.faultedSdkCalls) / result.sdkCalls : 0;
  const lines = [
    '',
    `Chaos run: ${report.orders} orders, seed ${report.seed}, ${(report.durationMs / 1000).toFixed(1)} s`,
    `SDK request attempts ${result.sdkCalls}, faulted ${result.faultedSdkCalls} (${share.toFixed(1)}%); handler invocations ${result.invocations}; place-order retried ${result.placementRetries} times`,
    '',
    'Faults injected:',
    ...Object.entries(report.faults).map(([kind, n]) => `  ${kind.padEnd(52)} ${String(n).padStart(6)}`),
    '',
    'Invariants:',
    ...Object.entries(report.invariants).map(
      ([name, n]) => `  ${name.padEnd(52)} ${String(n).padStart(6)}${n === 0 ? '  ok' : '  BROKEN'}`,
    ),
    '',
    `Poison messages dead-lettered with their reason: ${report.deadLettered.length}`,
    ...report.deadLettered.map(
      (d) =>
        `  ${d.id} (${d.channel}) in ${d.queue}${d.copies > 1 ? ` (${d.copies} copies)` : ''}: ${d.reason.slice(0, 200)}`,
    ),
  ];
  const details: [string, readonly string[]][] = [
    ['Lost', findings.lost],
    ['Duplicate effects', findings.duplicateEffects],
    ['Order violations', findings.orderViolations],
    ['Unexpected dead letters', findings.unexpectedDeadLetters],
    ['Orders place-order never confirmed', result.unconfirmed],
  ];
  for (const [title, items] of details) {
    if (items.length === 0) continue;
    lines.push('', `${title} (${items.length}):`, ...items.slice(0, 25).map((i) => `  - ${i.slice(0, 300)}`));
    if (items.length > 25) lines.push(`  ... and ${items.length - 25} more`);
  }
  return lines;
}

async function main(argv: readonly string[]): Promise<number> {
  const program = new Command()
    .name('chaos')
    .description('Runs the example system on the local cloud with faults injected and checks its invariants.')
    .option('--orders <n>', 'orders to place', wholeNumber(1), 2000)
    .option('--seed <n>', 'seed of the fault and workload random streams', wholeNumber(0), 1)
    .option('--out <file>', 'report file', join('bench', 'chaos.json'))
    .option(
      '--profile <name>',
      'fault rates: full, or ci (rare kinds more often, for a few dozen orders)',
      'full',
    )
    .option('--verbose', 'print every function log line')
    .parse([...argv], { from: 'user' });
  const options = program.opts<{
    orders: number;
    seed: number;
    out: string;
    profile: string;
    verbose?: boolean;
  }>();
  if (options.profile !== 'full' && options.profile !== 'ci') {
    console.error(`chaos: unknown --profile "${options.profile}"; use full or ci.`);
    return 2;
  }
  const result = await runChaos({
    orders: options.orders,
    seed: options.seed,
    projectDir: process.cwd(),
    resultFile: options.out,
    rates: options.profile === 'ci' ? CI_FAULT_RATES : DEFAULT_FAULT_RATES,
    progress: consoleProgress(),
    log: (line) => console.log(line),
    functionLog: options.verbose ? (line) => console.error(line) : undefined,
  });
  for (const line of formatChaosResult(result)) console.log(line);
  const broken = Object.values(result.report.invariants).some((n) => n > 0);
  console.log(
    `\n${broken ? 'FAILED: an invariant broke.' : 'OK: every invariant holds.'} Report: ${options.out}`,
  );
  return broken ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`chaos: ${error.stack ?? error.message}`);
      process.exit(2);
    },
  );
}
