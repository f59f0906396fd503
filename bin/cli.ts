#!/usr/bin/env node
/**
 * The `switchyard` command line.
 *
 * @example
 * switchyard local                       # deploy locally, run 1,000 orders, print the report
 * switchyard local --orders 200          # a smaller run
 * switchyard local --keep                # stay up for the AWS CLI/SDK until Ctrl-C
 * switchyard invoke KitchenConsumer --event events/sqs.json
 * switchyard local --endpoint http://127.0.0.1:4566   # use LocalStack instead of the embedded emulators
 * switchyard dlq list --local            # DLQs of the running local --keep (or AWS without --local)
 * switchyard dlq redrive kitchen --filter type=CreateTicket
 * switchyard outbox replay
 */
import { Command, InvalidArgumentError } from 'commander';
import { registerOperationCommands } from '../cli/ops/commands';
import { OperationError } from '../cli/ops/errors';
import { registerAsyncapi } from '../cli/topology/asyncapi';
import { registerDiagram } from '../cli/topology/diagram';
import type { FunctionIsolation } from '../local/cloud';
import { invokeCommand } from '../local/commands/invoke';
import { localCommand } from '../local/commands/local';
import { consoleOutput, type Output } from '../local/commands/shared';
import { JavaMissingError } from '../local/dynamodb-local';
import { LocalCloudError } from '../local/template/errors';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`"${value}" is not a positive whole number.`);
  return n;
}

function isolationMode(value: string): FunctionIsolation {
  if (value !== 'shared' && value !== 'thread')
    throw new InvalidArgumentError(`"${value}" is not an isolation: use 'shared' or 'thread'.`);
  return value;
}

function withCloudOptions(command: Command): Command {
  return command
    .option(
      '--endpoint <url>',
      'use this running AWS-compatible endpoint for every service (e.g. LocalStack)',
    )
    .option('--sns-sqs-endpoint <url>', 'running SNS/SQS endpoint (overrides --endpoint)')
    .option('--dynamodb-endpoint <url>', 'running DynamoDB + Streams endpoint (overrides --endpoint)')
    .option('--app-dir <dir>', 'directory with cdk.json', process.cwd())
    .option('--assembly <dir>', 'use this synthesized cloud assembly (cdk.out) instead of synthesizing')
    .option('--region <region>', 'AWS region of the local resources', 'us-east-1')
    .option('--no-synth-cache', 'synthesize even if the app is unchanged since the last run')
    .option('--no-iam', "do not enforce the template's IAM, resource and key policies for this run");
}

/** Runs the CLI and returns the exit code (does not call process.exit). */
export async function main(argv: readonly string[], output: Output = consoleOutput): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('switchyard')
    .description('Switchyard: run your CDK messaging app locally without Docker.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => output.out(s.trimEnd()), writeErr: (s) => output.err(s.trimEnd()) });
  withCloudOptions(
    program
      .command('local')
      .description(
        'synthesize and deploy the app into DynamoDB Local + an SNS/SQS emulator, run the example workload',
      )
      .option('--orders <n>', 'orders the example workload places (default 1000)', positiveInteger)
      .option('--keep', 'stay up after deploying (and after the workload, if --orders is given) until Ctrl-C')
      .option(
        '--function-concurrency <n>',
        'most sandboxes (instances) per function (default: the cores, 2 to 4)',
        positiveInteger,
      )
      .option(
        '--isolation <mode>',
        "'shared': sandboxes share a thread per core (default); 'thread': a thread per sandbox, memory size enforced",
        isolationMode,
      )
      .option('--verbose', 'print every function log line')
      .option('--no-latency', 'skip the unloaded and open-loop latency measurement after the workload')
      .option(
        '--report-html <file>',
        "also write the topology picture annotated with the run's message counts",
      ),
  ).action(async (options) => {
    exitCode = await localCommand(options, output);
  });
  withCloudOptions(
    program
      .command('invoke')
      .description('run one function of the app once with an event file and print its response and logs')
      .argument('<function>', 'logical id, construct path fragment or physical name')
      .option('-e, --event <file>', 'JSON event file (default: {})'),
  ).action(async (fn: string, options) => {
    exitCode = await invokeCommand(fn, options, output);
  });
  registerAsyncapi(program, output, (code) => {
    exitCode = code;
  });
  registerDiagram(program, output, (code) => {
    exitCode = code;
  });
  registerOperationCommands(program, output, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help')
      return 0;
    if (code?.startsWith('commander.')) return 2;
    if (
      error instanceof LocalCloudError ||
      error instanceof JavaMissingError ||
      error instanceof OperationError
    ) {
      output.err(`switchyard: ${error.message}`);
      return 1;
    }
    throw error;
  }
  return exitCode;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(error.stack ?? error.message);
      process.exit(1);
    },
  );
}
