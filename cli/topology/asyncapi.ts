/** `switchyard asyncapi [--out file]`: the AsyncAPI 3.0 document of the app, from its constructs. */
import type { Command } from 'commander';
import { toAsyncApi } from '../../lib/topology/asyncapi';
import type { Output } from '../../local/commands/shared';
import { emit, loadTopology, type TopologyCommandOptions, withTopologyOptions } from './topology';

export async function asyncapiCommand(options: TopologyCommandOptions & { title?: string }, output: Output) {
  const models = await loadTopology(options, output);
  emit(JSON.stringify(toAsyncApi(models, { title: options.title }), null, 2), options.out, output);
  return 0;
}

export function registerAsyncapi(program: Command, output: Output, done: (code: number) => void): void {
  withTopologyOptions(
    program
      .command('asyncapi')
      .description(
        'write the AsyncAPI 3.0 document (JSON) of the app, generated from its Switchyard constructs',
      )
      .option('--title <title>', 'document title (default: the stack names)'),
  ).action(async (options) => done(await asyncapiCommand(options, output)));
}
