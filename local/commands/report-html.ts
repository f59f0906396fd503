/**
 * `switchyard local --report-html file`: the topology picture of the app annotated with the run's
 * message counts per edge (from the flow report), written as a standalone HTML page.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readTopology } from '../../lib/topology/assembly';
import { type FlowCounts, renderHtml } from '../../lib/topology/diagram';
import type { TopologyModel } from '../../lib/topology/model';
import type { FlowReport } from '../flow-report';

/** Whether a local resource name is the model's physical name (CDK-named ones get `<stack>-` in front). */
function sameResource(localName: string, physicalName: string): boolean {
  const bare = localName.replace(/\.fifo$/, '');
  const wanted = physicalName.replace(/\.fifo$/, '');
  return bare === wanted || bare.endsWith(`-${wanted}`);
}

/** The run's counts keyed the way the diagram asks: channel names, `topic->queue` and consumer names. */
export function flowCounts(models: readonly TopologyModel[], report: FlowReport): FlowCounts {
  const channels = new Map<string, number>();
  const consumers = new Map<string, number>();
  for (const model of models) {
    for (const channel of model.channels) {
      const flow = report.channels.find(
        (c) => c.kind !== 'stream' && sameResource(c.name, channel.physicalName),
      );
      if (flow) channels.set(channel.name, flow.messages);
    }
    for (const consumer of model.consumers) {
      const queue = model.channels.find((c) => c.name === consumer.queue);
      if (!queue) continue;
      const drained = report.consumers.filter((c) => sameResource(c.source, queue.physicalName));
      if (drained.length)
        consumers.set(
          consumer.name,
          drained.reduce((sum, c) => sum + c.delivered, 0),
        );
      const queueCount = channels.get(consumer.queue);
      // A queue fed by one topic got all its messages from it; with several, the split is unknown.
      if (queueCount !== undefined && consumer.subscriptions.length === 1)
        channels.set(`${consumer.subscriptions[0]!.topic}->${consumer.queue}`, queueCount);
    }
  }
  return { channels, consumers };
}

export async function writeReportHtml(
  assemblyDir: string,
  report: FlowReport,
  file: string,
  caption: string,
) {
  const models = readTopology(assemblyDir);
  const html = await renderHtml(models, {
    title: `Switchyard local run: ${models.map((m) => m.stack).join(', ')}`,
    counts: flowCounts(models, report),
    caption,
  });
  const target = resolve(file);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, html);
  return target;
}
