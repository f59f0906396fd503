/** `switchyard diagram [--out file.svg|file.html]`: the topology picture of the app (Graphviz layout). */
import type { Command } from 'commander';
import { graphvizSource, renderHtml, renderSvg } from '../../lib/topology/diagram';
import type { Output } from '../../local/commands/shared';
import { emit, loadTopology, type TopologyCommandOptions, withTopologyOptions } from './topology';

export async function diagramCommand(options: TopologyCommandOptions, output: Output): Promise<number> {
  const models = await loadTopology(options, output);
  const out = options.out;
  if (out?.endsWith('.html')) emit(await renderHtml(models), out, output);
  else if (out?.endsWith('.dot')) emit(graphvizSource(models), out, output);
  else if (!out || out.endsWith('.svg')) emit(await renderSvg(models), out, output);
  else {
    output.err(`switchyard: --out ${out}: use a .svg, .html or .dot file name.`);
    return 2;
  }
  return 0;
}

export function registerDiagram(program: Command, output: Output, done: (code: number) => void): void {
  withTopologyOptions(
    program
      .command('diagram')
      .description(
        'draw the topology (producers, topics, filter policies, queues, consumers, DLQs, outboxes) as SVG or HTML',
      ),
  ).action(async (options) => done(await diagramCommand(options, output)));
}
