/** Shared by `switchyard asyncapi` and `switchyard diagram`: the app's topology from its synthesis. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { readTopology } from '../../lib/topology/assembly';
import type { TopologyModel } from '../../lib/topology/model';
import type { Output } from '../../local/commands/shared';
import { synthesizeCached } from '../../local/template/assembly';

export interface TopologyCommandOptions {
  readonly out?: string;
  readonly appDir?: string;
  readonly assembly?: string;
}

export function withTopologyOptions(command: Command): Command {
  return command
    .option('-o, --out <file>', 'write to this file instead of standard output')
    .option('--app-dir <dir>', 'directory with cdk.json', process.cwd())
    .option('--assembly <dir>', 'use this synthesized cloud assembly (cdk.out) instead of synthesizing');
}

/** Synthesizes the app (cached by a hash of its sources) unless an assembly is given, and reads its models. */
export async function loadTopology(
  options: TopologyCommandOptions,
  output: Output,
): Promise<TopologyModel[]> {
  const assembly =
    options.assembly ??
    (await synthesizeCached({ projectDir: options.appDir ?? process.cwd(), log: output.err }));
  return readTopology(assembly);
}

/** Writes `text` to `out` (creating its directory) or to standard output. */
export function emit(text: string, out: string | undefined, output: Output): void {
  if (!out) {
    output.out(text);
    return;
  }
  const file = resolve(out);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
  output.err(`Wrote ${file}`);
}
