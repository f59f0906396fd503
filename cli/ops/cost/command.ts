/** `switchyard cost`: the cost model of the synthesized app, as a table with the prices it used. */
import type { Output } from '../../../local/commands/shared';
import { readCloudAssembly, synthesizeCached } from '../../../local/template/assembly';
import { OperationError } from '../errors';
import { type CostOptions, type CostReport, costReport } from './model';
import { PRICES } from './prices';
import { readTopology } from './topology';

export interface CostCommandOptions extends CostOptions {
  readonly appDir?: string;
  readonly assembly?: string;
}

const usd = (n: number) => `$${n.toFixed(4)}`;

export function formatCostReport(report: CostReport): string[] {
  // The S3 column appears only when a claim-check channel offloads payloads of this size.
  const s3 = report.lines.some((l) => l.services.s3 > 0);
  const header = [
    'PART',
    'NAME',
    'SNS',
    'SQS',
    'LAMBDA',
    'DYNAMODB',
    ...(s3 ? ['S3'] : []),
    'TOTAL',
    'POWERTOOLS WAY',
  ];
  const rows = report.lines.map((l) => [
    l.kind,
    l.name,
    usd(l.services.sns),
    usd(l.services.sqs),
    usd(l.services.lambda),
    usd(l.services.dynamodb),
    ...(s3 ? [usd(l.services.s3)] : []),
    usd(l.total),
    usd(l.baseline),
  ]);
  rows.push(['total', '', '', '', '', '', ...(s3 ? [''] : []), usd(report.total), usd(report.baselineTotal)]);
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const lines = [
    `Monthly cost of ${report.messages.toLocaleString('en-US')} messages of ${report.payloadBytes} bytes through each part (us-east-1 list prices):`,
    '',
    ...all.map((r) =>
      r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    ),
    '',
    `Fixed per month, whatever the traffic: ${usd(report.fixedMonthly)} (CloudWatch alarms and KMS keys).`,
    '',
    'Prices used:',
    ...Object.values(PRICES).map((p) => `  $${p.usd} per ${p.unit} (${p.asOf}, ${p.source})`),
  ];
  return lines;
}

export async function costCommand(options: CostCommandOptions, output: Output): Promise<number> {
  const assemblyDir =
    options.assembly ??
    (await synthesizeCached({ projectDir: options.appDir ?? process.cwd(), log: output.err }));
  const templates = readCloudAssembly(assemblyDir).map((s) => s.template);
  const topology = readTopology(templates);
  if (topology.channels.length + topology.consumers.length + topology.outboxes.length === 0) {
    throw new OperationError('The app has no Switchyard channels, consumers or outboxes to cost.');
  }
  for (const line of formatCostReport(costReport(topology, options))) output.out(line);
  return 0;
}
