/**
 * `switchyard local`: deploys the app into the local cloud, then either runs the example
 * workload and prints the report (exit 1 on a lost message or broken invariant), or, with
 * `--keep` (or for an app that is not the example), stays up until Ctrl-C.
 */
import { type FunctionIsolation, LocalCloud } from '../cloud';
import { collectFlowReport, formatFlowReport } from '../flow-report';
import { describeMachineLoad, type MachineSample, machineLoadSince, sampleMachine } from '../machine-load';
import { removeSession, sessionOf, writeSession } from '../session';
import { summarize } from '../stats';
import { isFoodDeliveryApp, runFoodDeliveryWorkload, type WorkloadResult } from '../workload/food-delivery';
import { type LatencyPhases, LOADED_RATE_SHARE, runLatencyPhases } from '../workload/latency-phases';
import type { LatencyProbeResult } from '../workload/latency-probe';
import { consoleProgress } from '../workload/progress';
import { writeReportHtml } from './report-html';
import {
  type CloudCommandOptions,
  endpointsFrom,
  type Output,
  printDeployment,
  printEndpointsAndResources,
} from './shared';

export interface LocalCommandOptions extends CloudCommandOptions {
  readonly orders?: number;
  readonly keep?: boolean;
  /** Print every function log line. */
  readonly verbose?: boolean;
  readonly functionConcurrency?: number;
  /** Where function sandboxes run (`--isolation`). @default 'shared' */
  readonly isolation?: FunctionIsolation;
  /** Write the topology picture annotated with this run's message counts to this HTML file. */
  readonly reportHtml?: string;
  /** Measure unloaded and open-loop latency after the workload (`--no-latency` skips it). @default true */
  readonly latency?: boolean;
}

function formatWorkload(result: WorkloadResult): string[] {
  const latency = summarize(result.latenciesMs);
  const seconds = result.durationMs / 1000;
  return [
    '',
    `Orders: ${result.ordersCompleted}/${result.ordersRequested} completed (placed ${result.ordersPlaced}) in ${seconds.toFixed(2)} s` +
      ` = ${(result.ordersCompleted / Math.max(seconds, 0.001)).toFixed(1)} orders/s`,
    // 20 orders in flight with more queued: this is the driver's backlog, not the backbone's latency.
    `Completion time under the closed-loop burst (includes the driver's own backlog): p50 ${latency.p50} ms, p99 ${latency.p99} ms`,
  ];
}

function formatLatency(phases: LatencyPhases): string[] {
  const figures = (r: LatencyProbeResult) =>
    `p50 ${r.latencyMs.p50} ms, p95 ${r.latencyMs.p95} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms (${r.completed}/${r.orders} orders)`;
  const { unloaded, loaded } = phases;
  const lines = [
    '',
    'Latency, place-order called -> history view APPROVED (orders on top of the workload, checked like its own):',
    `  unloaded (one order at a time): ${figures(unloaded)}`,
  ];
  if (loaded)
    lines.push(
      `  loaded (open loop, ${loaded.ordersPerSecond} orders/s = ${LOADED_RATE_SHARE * 100}% of capacity): ${figures(loaded)}`,
    );
  for (const p of phases.problems.slice(0, 5)) lines.push(`  ! ${p}`);
  return lines;
}

/**
 * The machine's load during the workload, and the CPU of this process and of DynamoDB Local.
 * `embedded`: the emulators run here; otherwise their CPU is among the other processes'.
 */
function formatMachine(before: MachineSample, after: MachineSample, embedded: boolean): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const cpu = `${seconds(after.ownCpuMs - before.ownCpuMs)} s of CPU in this process (functions, event sources, IAM gateway${embedded ? ', SNS/SQS' : ''})`;
  // Without /proc (macOS) there is no machine-wide figure; a row of zeros would read as an idle machine.
  if (after.totalTicks === 0) return `Machine during the workload: load not available here; ${cpu}.`;
  const jvm = after.childCpuMs - before.childCpuMs;
  return (
    `Machine during the workload: ${describeMachineLoad(machineLoadSince(before, after))}; ${cpu}` +
    (embedded
      ? `, ${seconds(Math.max(0, jvm))} s in DynamoDB Local.`
      : '; the emulators at --endpoint count as other processes.')
  );
}

/** Denials, undeliverable SNS subscriptions and unsupported IAM conditions, or that IAM was off. */
function formatAccess(cloud: LocalCloud): string[] {
  if (!cloud.strict?.enforcing) return ['', 'IAM: not enforced (--no-iam).'];
  const denials = cloud.denials();
  const lines = ['', `IAM, resource and key policies enforced: ${denials.length} distinct denial(s).`];
  for (const d of denials) lines.push(`  x${d.count} ${d.message}`);
  for (const u of cloud.undeliverableSubscriptions())
    lines.push(
      `  SNS ${u.topicArn} -> ${u.queueArn}: delivery denied; ${u.toDeadLetterQueue} to the subscription DLQ, ${u.dropped} dropped`,
    );
  for (const message of cloud.strict.unsupportedConditions) lines.push(`  ${message}`);
  return lines;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const done = (signal: string) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/** Returns the process exit code. */
export async function localCommand(options: LocalCommandOptions, output: Output): Promise<number> {
  const started = Date.now();
  const cloud = await LocalCloud.start({
    projectDir: options.appDir,
    assemblyDir: options.assembly,
    endpoints: endpointsFrom(options),
    region: options.region,
    noSynthCache: options.synthCache === false,
    log: output.out,
    functionLog: options.verbose ? output.err : undefined,
    eventSourceLog: options.verbose ? output.err : undefined,
    functionConcurrency: options.functionConcurrency,
    isolation: options.isolation,
    iam: options.iam,
  });
  // Ctrl-C during the workload still stops the workers and emulators.
  let idle = false;
  const appDir = options.appDir ?? process.cwd();
  const interrupted = waitForSignal().then(async (signal) => {
    output.err(`\n${signal}: shutting down ...`);
    removeSession(appDir);
    await cloud.stop();
    // Stopping a --keep session is the normal way to end it; interrupting a workload is not.
    process.exit(idle ? 0 : 130);
  });
  void interrupted;
  try {
    output.out(`Local cloud up in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    printDeployment(cloud, output);
    const example = isFoodDeliveryApp(cloud.outputs());
    let exitCode = 0;
    if (example && (!options.keep || options.orders !== undefined)) {
      const orders = options.orders ?? 1000;
      const childPids = cloud.childPids();
      const machineBefore = sampleMachine(childPids);
      const result = await runFoodDeliveryWorkload(cloud, {
        orders,
        progress: consoleProgress(),
      });
      const workloadDone = Date.now();
      // How busy the machine was, and with whose work: a slow run on a contended laptop says so.
      const machine = formatMachine(machineBefore, sampleMachine(childPids), childPids.length > 0);
      // The flow report (counts per channel and consumer, the picture) is the workload's own: taken
      // before the latency probes place their orders.
      const flow = await collectFlowReport(cloud);
      const probes =
        options.latency === false
          ? undefined
          : await runLatencyPhases(cloud, {
              capacity: result.ordersCompleted / Math.max(0.001, result.durationMs / 1000),
              firstIndex: orders,
            });
      // Dead letters are checked once every order, the probes' included, has run.
      const deadLetters = probes ? (await collectFlowReport(cloud)).deadLetters : flow.deadLetters;
      for (const line of [...formatWorkload(result), ...formatFlowReport(flow)]) output.out(line);
      if (probes) for (const line of formatLatency(probes)) output.out(line);
      output.out(machine);
      const init = cloud.initStats();
      output.out(
        `Function instances: ${init.instancesStarted} started (isolation ${init.isolation}` +
          (init.isolation === 'shared' ? `, on ${init.sharedThreads} shared threads)` : ')') +
          (init.ownThreads.length > 0
            ? `, ${init.ownThreads.length} function(s) moved to threads of their own (see --verbose): ${init.ownThreads.join(', ')}`
            : '') +
          `, ${init.initTimeouts} init(s) past the 10 s init limit` +
          (init.initTimeouts > 0 ? ' (each retried within its invocation, as Lambda does)' : ''),
      );
      output.out(
        `Time: ${((workloadDone - started) / 1000).toFixed(1)} s from start to the last approval of the workload` +
          (probes ? `, latency measurement ${((Date.now() - workloadDone) / 1000).toFixed(1)} s more.` : '.'),
      );
      for (const line of formatAccess(cloud)) output.out(line);
      if (options.reportHtml && cloud.assemblyDir) {
        const caption = `${result.ordersCompleted}/${result.ordersRequested} orders in ${(result.durationMs / 1000).toFixed(1)} s; edges show messages per channel and records delivered per consumer.`;
        output.out(`Wrote ${await writeReportHtml(cloud.assemblyDir, flow, options.reportHtml, caption)}`);
      }
      const problems = [
        ...cloud.denials().map((d) => `access denied (x${d.count}): ${d.message}`),
        ...cloud
          .undeliverableSubscriptions()
          .filter((u) => u.dropped > 0)
          .map(
            (u) => `${u.dropped} SNS deliveries from ${u.topicArn} to ${u.queueArn} dropped (denied, no DLQ)`,
          ),
        ...result.placementErrors.map((e) => `place-order failed: ${e}`),
        ...result.incomplete.map((i) => `lost or unfinished: ${i}`),
        ...result.invariantFailures.map((f) => `invariant: ${f}`),
        ...(probes?.problems ?? []).map((p) => `latency measurement: ${p}`),
        ...(probes?.incomplete ?? []).map((i) => `lost or unfinished (latency phase): ${i}`),
        ...(probes?.invariantFailures ?? []).map((f) => `invariant (latency phase): ${f}`),
        ...deadLetters
          .filter((d) => d.count > 0)
          .map((d) => `${d.count} message(s) in dead-letter queue ${d.queue}`),
      ];
      output.out('');
      if (problems.length) {
        output.err(`FAILED: ${problems.length} problem(s):`);
        for (const p of problems.slice(0, 20)) output.err(`  - ${p}`);
        if (problems.length > 20) output.err(`  ... and ${problems.length - 20} more`);
        exitCode = 1;
      } else {
        output.out('OK: every order completed, no message lost, all invariants hold.');
      }
    } else if (!example && !options.keep) {
      output.out(
        'This app is not the food-delivery example, so there is no workload to run; staying up (as with --keep).',
      );
    }
    if (options.keep || !example) {
      printEndpointsAndResources(cloud, output);
      // Lets `switchyard invoke` and `switchyard dlq ... --local` in another terminal use this cloud.
      const file = writeSession(appDir, sessionOf(cloud));
      output.out(
        `\n\`switchyard invoke\`, \`dlq --local\` and \`outbox replay --local\` in this app use this cloud (session in ${file}).`,
      );

      output.out('\nLocal cloud running. Press Ctrl-C to stop.');
      idle = true;
      await new Promise<never>(() => undefined);
    }
    return exitCode;
  } finally {
    removeSession(appDir);
    await cloud.stop();
  }
}
