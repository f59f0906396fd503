/**
 * A benchmark suite: `bench/run.ts` loads every module in `bench/suites/`, starts the embedded
 * emulators once (their endpoints are in the standard AWS_ENDPOINT_URL_* variables while suites
 * run), runs each suite in file-name order, and merges the figures into `bench/results.json`.
 */
export interface BenchContext {
  /** SNS/SQS emulator endpoint (also in AWS_ENDPOINT_URL_SNS / _SQS). */
  readonly snsSqsEndpoint: string;
  /** DynamoDB Local endpoint (also in AWS_ENDPOINT_URL_DYNAMODB / _DYNAMODB_STREAMS). */
  readonly dynamodbEndpoint: string;
  /** Repository root. */
  readonly root: string;
  /** Progress line for the console. */
  log(line: string): void;
}

/** A table the readable report prints: one row per case, one column per figure. */
export interface BenchTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
  /** How to read the table: units, workload, what the baseline is. */
  readonly notes?: string;
}

export interface BenchSuiteResult {
  /** Machine-readable figures, written under the suite's name in results.json. */
  readonly figures: Record<string, unknown>;
  readonly tables: readonly BenchTable[];
}

export interface BenchSuite {
  /** Key in results.json, e.g. `messaging-core`. */
  readonly name: string;
  readonly description: string;
  run(context: BenchContext): Promise<BenchSuiteResult>;
}
