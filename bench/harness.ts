/**
 * The benchmark harness without process concerns: finds and selects suites, runs them one after
 * another, and merges their figures into `results.json` / `results.md`. `bench/run.ts` adds the
 * emulators and the command line; tests call `runBenchmarks` directly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { type BenchResults, type RunMeta, renderMarkdown, renderTextTable, type SuiteRecord } from './report';
import type { BenchContext, BenchSuite } from './suite';

export const RESULTS_JSON = 'results.json';
export const RESULTS_MARKDOWN = 'results.md';

/** A suite module that could not be loaded (syntax error, missing import, no suite exported). */
export interface SuiteLoadFailure {
  /** The suite's name as guessed from its file: `20-idempotency.ts` -> `idempotency`. */
  readonly name: string;
  readonly file: string;
  readonly error: string;
}

export class BenchConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchConfigurationError';
  }
}

function isSuite(value: unknown): value is BenchSuite {
  const candidate = value as Partial<BenchSuite> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.name === 'string' &&
    typeof candidate.run === 'function'
  );
}

/** `20-idempotency.ts` -> `idempotency`: the key a suite that failed to load is reported under. */
export function suiteNameFromFile(file: string): string {
  return basename(file)
    .replace(/\.[cm]?[jt]s$/, '')
    .replace(/^\d+-/, '');
}

/**
 * Loads every `*.ts` module in `directory` in file-name order. A module may export its suite as
 * `default` or under any name; a module that fails to load is returned as a failure, not thrown,
 * so one broken suite does not stop the others.
 */
export function loadSuites(directory: string): { suites: BenchSuite[]; failures: SuiteLoadFailure[] } {
  const files = readdirSync(directory)
    .filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  const suites: BenchSuite[] = [];
  const failures: SuiteLoadFailure[] = [];
  for (const file of files) {
    const path = join(directory, file);
    try {
      const exported = Object.values(require(path) as Record<string, unknown>).filter(isSuite);
      if (exported.length === 0) {
        throw new BenchConfigurationError(
          'it exports no benchmark suite; export an object with `name`, `description` and `run` (see bench/suite.ts).',
        );
      }
      // `export default suite` plus a named export of the same object must count once.
      suites.push(...new Set(exported));
    } catch (error) {
      failures.push({ name: suiteNameFromFile(file), file: path, error: describeError(error) });
    }
  }
  return { suites, failures };
}

/** True when `name` matches the command-line filter (any term, case-insensitive substring). */
export function matchesFilter(name: string, filter: readonly string[]): boolean {
  if (filter.length === 0) return true;
  return filter.some((term) => name.toLowerCase().includes(term.toLowerCase()));
}

/**
 * The suites the filter selects, in order. Throws when names clash, or when the filter selects
 * nothing at all (neither a loaded suite nor one of `unloadedNames`, suites that failed to load).
 */
export function selectSuites(
  suites: readonly BenchSuite[],
  filter: readonly string[] = [],
  unloadedNames: readonly string[] = [],
): BenchSuite[] {
  const seen = new Set<string>();
  for (const suite of suites) {
    if (suite.name === 'meta') {
      throw new BenchConfigurationError('A suite may not be named "meta": results.json uses that key.');
    }
    if (seen.has(suite.name)) {
      throw new BenchConfigurationError(`Two suites are named "${suite.name}"; give each a unique name.`);
    }
    seen.add(suite.name);
  }
  const selected = suites.filter((s) => matchesFilter(s.name, filter));
  const selectsUnloaded = unloadedNames.some((name) => matchesFilter(name, filter));
  if (selected.length === 0 && filter.length > 0 && !selectsUnloaded) {
    throw new BenchConfigurationError(
      `No suite matches ${filter.map((f) => `"${f}"`).join(' or ')}. ` +
        `Suites: ${[...suites.map((s) => s.name), ...unloadedNames].join(', ') || '(none)'}.`,
    );
  }
  return selected;
}

/** Reads results.json; an absent file is empty. A malformed one is an error, never overwritten. */
export function readResults(resultsDir: string): Record<string, SuiteRecord> {
  const path = join(resultsDir, RESULTS_JSON);
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new BenchConfigurationError(
      `${path} is not valid JSON (${error instanceof Error ? error.message : String(error)}). ` +
        'Fix it, or delete it to start the figures afresh.',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BenchConfigurationError(
      `${path} must hold an object keyed by suite name; delete it to start afresh.`,
    );
  }
  const { meta: _meta, ...suites } = parsed as Record<string, SuiteRecord>;
  return suites;
}

function writeAtomically(path: string, content: string): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}

/** Writes results.json (`meta` first, then suites by name) and results.md. */
export function writeResults(resultsDir: string, results: BenchResults): void {
  mkdirSync(resultsDir, { recursive: true });
  const ordered: Record<string, unknown> = { meta: results.meta };
  for (const name of Object.keys(results.suites).sort()) ordered[name] = results.suites[name];
  writeAtomically(join(resultsDir, RESULTS_JSON), `${JSON.stringify(ordered, null, 2)}\n`);
  writeAtomically(join(resultsDir, RESULTS_MARKDOWN), renderMarkdown(results));
}

function git(root: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

/** The current commit, `-dirty` when uncommitted changes exist, `unknown` when git is unavailable. */
export function gitCommit(root: string): string {
  try {
    const head = git(root, ['rev-parse', '--short=12', 'HEAD']);
    return git(root, ['status', '--porcelain']).length > 0 ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

export function collectMeta(root: string, now: Date = new Date()): RunMeta {
  const cpuList = cpus();
  return {
    date: now.toISOString(),
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryBytes: totalmem(),
    commit: gitCommit(root),
  };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

export interface RunBenchmarksOptions {
  /** Suites to consider, in the order to run them. */
  readonly suites: readonly BenchSuite[];
  /** Command-line terms; a suite runs when its name contains any of them. @default - all suites */
  readonly filter?: readonly string[];
  /** Suite modules that failed to load; recorded as failed when the filter selects them. */
  readonly loadFailures?: readonly SuiteLoadFailure[];
  /** Directory of results.json and results.md. */
  readonly resultsDir: string;
  /** What each suite receives, except `log`, which the harness prefixes with the suite name. */
  readonly context: Omit<BenchContext, 'log'>;
  /** Console sink. @default console.log */
  readonly print?: (line: string) => void;
}

export interface RunBenchmarksOutcome {
  readonly results: BenchResults;
  /** Names of the suites that failed (to load or to run) in this run. */
  readonly failed: readonly string[];
}

/**
 * Runs the selected suites one after another (they measure time; running them together would
 * distort each other's figures), merges their records into the existing results and writes both
 * files. A failing suite is recorded with its error and does not stop the others.
 *
 * @example
 * const { failed } = await runBenchmarks({ suites, filter: ['messaging'], resultsDir: 'bench', context });
 * process.exitCode = failed.length > 0 ? 1 : 0;
 */
export async function runBenchmarks(options: RunBenchmarksOptions): Promise<RunBenchmarksOutcome> {
  const filter = options.filter ?? [];
  const print = options.print ?? ((line: string) => console.log(line));
  const previous = readResults(options.resultsDir);
  const loadFailures = (options.loadFailures ?? []).filter((f) => matchesFilter(f.name, filter));
  const suites = selectSuites(
    options.suites,
    filter,
    loadFailures.map((f) => f.name),
  );
  const meta = collectMeta(options.context.root);
  const records: Record<string, SuiteRecord> = { ...previous };
  const failed: string[] = [];

  for (const failure of loadFailures) {
    print(`[${failure.name}] could not load ${failure.file}:\n${failure.error}`);
    records[failure.name] = {
      description: `Suite module ${basename(failure.file)}`,
      ranAt: meta.date,
      commit: meta.commit,
      durationMs: 0,
      error: `could not load ${basename(failure.file)}: ${failure.error}`,
    };
    failed.push(failure.name);
  }

  for (const suite of suites) {
    print(`\n== ${suite.name}: ${suite.description}`);
    const started = performance.now();
    const ranAt = new Date().toISOString();
    const context: BenchContext = { ...options.context, log: (line) => print(`[${suite.name}] ${line}`) };
    try {
      const result = await suite.run(context);
      records[suite.name] = {
        description: suite.description,
        ranAt,
        commit: meta.commit,
        durationMs: Math.round(performance.now() - started),
        figures: result.figures,
        tables: result.tables,
      };
      for (const table of result.tables) print(`\n${renderTextTable(table)}`);
    } catch (error) {
      const message = describeError(error);
      print(`[${suite.name}] FAILED: ${message}`);
      records[suite.name] = {
        description: suite.description,
        ranAt,
        commit: meta.commit,
        durationMs: Math.round(performance.now() - started),
        error: message,
      };
      failed.push(suite.name);
    }
  }

  const results: BenchResults = { meta, suites: records };
  writeResults(options.resultsDir, results);
  print(
    `\nWrote ${join(options.resultsDir, RESULTS_JSON)} and ${join(options.resultsDir, RESULTS_MARKDOWN)}.`,
  );
  return { results, failed };
}
