import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  BenchConfigurationError,
  loadSuites,
  RESULTS_JSON,
  RESULTS_MARKDOWN,
  runBenchmarks,
  selectSuites,
  suiteNameFromFile,
} from '../bench/harness';
import { formatCell, renderTextTable } from '../bench/report';
import type { BenchSuite } from '../bench/suite';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

const ROOT = resolve(__dirname, '..');

/** A real suite: sends one message through the SQS emulator and reports what came back. */
const probeSuite: BenchSuite = {
  name: 'probe-send',
  description: 'Sends one SQS message.',
  async run(context) {
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('bench-probe') }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello | bench' }));
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
      context.log(`received ${Messages?.length ?? 0}`);
      const body = Messages?.[0]?.Body ?? '(none)';
      return {
        figures: { received: Messages?.length ?? 0, body },
        tables: [
          {
            title: 'Probe',
            columns: ['body', 'messages received'],
            rows: [[body, Messages?.length ?? 0]],
            notes: 'One message through the emulator.',
          },
        ],
      };
    } finally {
      sqs.destroy();
    }
  },
};

const brokenSuite: BenchSuite = {
  name: 'broken-suite',
  description: 'Always fails.',
  run: async () => {
    throw new Error('boom: the suite broke');
  },
};

const unselectedSuite: BenchSuite = {
  name: 'unselected',
  description: 'Must not run under the filter.',
  run: async () => {
    throw new Error('the filter should have skipped this suite');
  },
};

describe('benchmark harness', () => {
  let dir: string;
  const context = () => ({
    snsSqsEndpoint: snsSqsEndpoint(),
    dynamodbEndpoint: dynamodbEndpoint(),
    root: ROOT,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('runs the selected suites, records a failure, and merges into the existing results', async () => {
    // GIVEN figures from an earlier run, one of them for a suite that runs again now
    const older = {
      description: 'From an earlier run.',
      ranAt: '2026-01-01T00:00:00.000Z',
      commit: 'abc',
      durationMs: 5,
      figures: { kept: 42 },
      tables: [{ title: 'Older table', columns: ['a'], rows: [[1]] }],
    };
    writeFileSync(
      join(dir, RESULTS_JSON),
      JSON.stringify({ meta: { date: 'old' }, older, 'probe-send': { ...older, figures: { stale: true } } }),
    );
    const printed: string[] = [];

    // WHEN
    const outcome = await runBenchmarks({
      suites: [probeSuite, brokenSuite, unselectedSuite],
      filter: ['PROBE', 'broken'],
      resultsDir: dir,
      context: context(),
      print: (line) => printed.push(line),
    });

    // THEN
    expect(outcome.failed).toEqual(['broken-suite']);
    const json = JSON.parse(readFileSync(join(dir, RESULTS_JSON), 'utf8'));
    expect(Object.keys(json)).toEqual(['meta', 'broken-suite', 'older', 'probe-send']);
    expect(json.meta).toMatchObject({ node: process.version, cores: expect.any(Number) });
    expect(json.meta.date).not.toBe('old');
    expect(json.meta.commit).toMatch(/^([0-9a-f]{12}(-dirty)?|unknown)$/);
    expect(json.older).toEqual(older);
    expect(json['probe-send'].figures).toEqual({ received: 1, body: 'hello | bench' });
    expect(json['probe-send'].commit).toBe(json.meta.commit);
    expect(json['broken-suite'].error).toMatch(/boom: the suite broke/);
    expect(json['broken-suite'].figures).toBeUndefined();

    const markdown = readFileSync(join(dir, RESULTS_MARKDOWN), 'utf8');
    expect(markdown).toContain('## probe-send');
    expect(markdown).toContain('| body | messages received |\n| --- | ---: |\n| hello \\| bench | 1 |');
    expect(markdown).toContain('One message through the emulator.');
    expect(markdown).toContain('### Older table');
    expect(markdown).toMatch(/## broken-suite[\s\S]*\*\*Failed:\*\* Error: boom: the suite broke/);
    expect(markdown).not.toContain('unselected');

    expect(printed.join('\n')).toContain('[probe-send] received 1');
    expect(printed.join('\n')).toMatch(/Probe\nbody {10,}messages received\n/);
  });

  test('fails when the filter selects no suite, naming the suites there are', () => {
    expect(() => selectSuites([probeSuite, brokenSuite], ['nothing'])).toThrow(BenchConfigurationError);
    expect(() => selectSuites([probeSuite, brokenSuite], ['nothing'])).toThrow(
      /No suite matches "nothing"\. Suites: probe-send, broken-suite\./,
    );
  });

  test('fails on suites with the same name or the reserved name meta', () => {
    expect(() => selectSuites([probeSuite, probeSuite])).toThrow(/Two suites are named "probe-send"/);
    expect(() => selectSuites([{ ...probeSuite, name: 'meta' }])).toThrow(/may not be named "meta"/);
  });

  test('fails on a malformed results file before running anything, and leaves it as it was', async () => {
    writeFileSync(join(dir, RESULTS_JSON), '{ not json');
    let ran = false;
    const recording: BenchSuite = {
      name: 'recording',
      description: 'Notes that it ran.',
      run: async () => {
        ran = true;
        return { figures: {}, tables: [] };
      },
    };
    await expect(
      runBenchmarks({ suites: [recording], resultsDir: dir, context: context(), print: () => undefined }),
    ).rejects.toThrow(
      /results\.json is not valid JSON \(.*\)\. Fix it, or delete it to start the figures afresh\.$/,
    );
    expect(ran).toBe(false);
    expect(readFileSync(join(dir, RESULTS_JSON), 'utf8')).toBe('{ not json');
  });

  test('loads suites in file-name order and reports a module that fails to load', async () => {
    const suitesDir = join(dir, 'suites');
    mkdirSync(suitesDir);
    writeFileSync(
      join(suitesDir, '20-second.ts'),
      "export default { name: 'second', description: 'd', run: async () => ({ figures: {}, tables: [] }) };",
    );
    writeFileSync(
      join(suitesDir, '10-first.ts'),
      "export const suite = { name: 'first', description: 'd', run: async () => ({ figures: {}, tables: [] }) };",
    );
    writeFileSync(join(suitesDir, '30-broken.ts'), "throw new Error('cannot import');");
    writeFileSync(join(suitesDir, '40-empty.ts'), 'export const notASuite = 1;');

    const { suites, failures } = loadSuites(suitesDir);

    expect(suites.map((s) => s.name)).toEqual(['first', 'second']);
    expect(failures.map((f) => [f.name, f.error.split('\n')[0]])).toEqual([
      ['broken', 'Error: cannot import'],
      ['empty', expect.stringMatching(/exports no benchmark suite/)],
    ]);

    // A filter that selects only the broken module records it as failed.
    const outcome = await runBenchmarks({
      suites,
      loadFailures: failures,
      filter: ['broken'],
      resultsDir: dir,
      context: context(),
      print: () => undefined,
    });
    expect(outcome.failed).toEqual(['broken']);
    const json = JSON.parse(readFileSync(join(dir, RESULTS_JSON), 'utf8'));
    expect(json.broken.error).toMatch(/could not load 30-broken\.ts: Error: cannot import/);
  });

  test('formats figures and aligns text tables', () => {
    expect(formatCell(1234567)).toBe('1,234,567');
    expect(formatCell(12.3456)).toBe('12.35');
    expect(formatCell('as is')).toBe('as is');
    expect(suiteNameFromFile('/x/20-idempotency.ts')).toBe('idempotency');
    expect(
      renderTextTable({
        title: 'T',
        columns: ['name', 'n'],
        rows: [
          ['a', 5],
          ['bb', 1000],
        ],
      }),
    ).toBe('T\nname      n\n----  -----\na         5\nbb    1,000');
  });
});
