/**
 * Renders benchmark results: Markdown for `bench/results.md`, aligned plain text for the console.
 * Both are rendered from the merged results file, so a filtered run still reports every suite.
 */
import type { BenchTable } from './suite';

/** Where and when the figures were measured. */
export interface RunMeta {
  readonly date: string;
  readonly node: string;
  readonly platform: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  /** `git rev-parse HEAD`, with `-dirty` when the working tree had changes; `unknown` outside git. */
  readonly commit: string;
}

interface SuiteRunInfo {
  readonly description: string;
  readonly ranAt: string;
  readonly commit: string;
  readonly durationMs: number;
}

/** One suite's entry in results.json: its figures and tables, or the error that stopped it. */
export type SuiteRecord =
  | (SuiteRunInfo & {
      readonly figures: Record<string, unknown>;
      readonly tables: readonly BenchTable[];
    })
  | (SuiteRunInfo & { readonly error: string });

/** The contents of results.json: `meta` plus one key per suite name. */
export interface BenchResults {
  readonly meta: RunMeta;
  readonly suites: Readonly<Record<string, SuiteRecord>>;
}

/** Formats a figure for a table cell: integers with thousands separators, others to 2 decimals. */
export function formatCell(value: string | number): string {
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  const rounded = Number.isInteger(value) ? value : Math.round(value * 100) / 100;
  return rounded.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

function escapeMarkdown(cell: string): string {
  return cell.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** One table as GitHub Markdown; numeric columns are right-aligned. */
export function renderMarkdownTable(table: BenchTable): string {
  const numeric = table.columns.map(
    (_, i) => table.rows.length > 0 && table.rows.every((row) => typeof row[i] === 'number'),
  );
  const lines = [
    `### ${table.title}`,
    '',
    `| ${table.columns.map(escapeMarkdown).join(' | ')} |`,
    `|${numeric.map((n) => (n ? ' ---: ' : ' --- ')).join('|')}|`,
    ...table.rows.map(
      (row) => `| ${table.columns.map((_, i) => escapeMarkdown(formatCell(row[i] ?? ''))).join(' | ')} |`,
    ),
  ];
  if (table.rows.length === 0) lines.push('', '_No rows._');
  if (table.notes) lines.push('', table.notes);
  return lines.join('\n');
}

/** The whole results.md: machine description, then each suite in name order. */
export function renderMarkdown(results: BenchResults): string {
  const { meta } = results;
  const lines = [
    '# Switchyard benchmarks',
    '',
    'Written by `npm run bench` from `bench/results.json`; do not edit by hand.',
    '',
    `Last run ${meta.date} on ${meta.cpu} (${meta.cores} cores, ${formatGiB(meta.memoryBytes)} memory), ` +
      `Node ${meta.node} on ${meta.platform}, commit ${meta.commit}.`,
  ];
  for (const name of Object.keys(results.suites).sort()) {
    const record = results.suites[name]!;
    lines.push('', `## ${name}`, '', record.description, '');
    lines.push(`_Ran ${record.ranAt} at commit ${record.commit} in ${formatSeconds(record.durationMs)}._`);
    if ('error' in record) {
      lines.push('', `**Failed:** ${escapeMarkdown(record.error)}`);
      continue;
    }
    for (const table of record.tables) lines.push('', renderMarkdownTable(table));
  }
  return `${lines.join('\n')}\n`;
}

/** One table as padded plain text for the console. */
export function renderTextTable(table: BenchTable): string {
  const cells = table.rows.map((row) => table.columns.map((_, i) => formatCell(row[i] ?? '')));
  const widths = table.columns.map((column, i) =>
    Math.max(column.length, ...cells.map((row) => row[i]!.length)),
  );
  const numeric = table.columns.map(
    (_, i) => table.rows.length > 0 && table.rows.every((row) => typeof row[i] === 'number'),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [
    table.title,
    line(table.columns),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map(line),
  ];
  if (table.rows.length === 0) out.push('(no rows)');
  if (table.notes) out.push(table.notes);
  return out.join('\n');
}

function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
