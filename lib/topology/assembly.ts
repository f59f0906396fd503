/** Reads the topology models `recordTopology` wrote into a cloud assembly (cdk.out). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPOLOGY_METADATA_TYPE, type TopologyModel } from './model';

interface MetadataEntry {
  type: string;
  data: unknown;
}

interface Manifest {
  artifacts?: Record<
    string,
    {
      type?: string;
      metadata?: Record<string, MetadataEntry[]>;
      /** Newer CDK versions move stack metadata into this file. */
      additionalMetadataFile?: string;
    }
  >;
}

/** Every stack's model, in manifest order. Throws with the fix when the app records none. */
export function readTopology(assemblyDir: string): TopologyModel[] {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as Manifest;
  const models: TopologyModel[] = [];
  for (const artifact of Object.values(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const extra = artifact.additionalMetadataFile
      ? (JSON.parse(readFileSync(join(assemblyDir, artifact.additionalMetadataFile), 'utf8')) as Record<
          string,
          MetadataEntry[]
        >)
      : {};
    for (const entries of [...Object.values(artifact.metadata ?? {}), ...Object.values(extra)])
      for (const entry of entries)
        if (entry.type === TOPOLOGY_METADATA_TYPE) models.push(entry.data as TopologyModel);
  }
  if (models.length === 0) {
    throw new Error(
      `The cloud assembly in ${assemblyDir} holds no Switchyard topology. Call recordTopology(app) in your CDK app ` +
        "(import { recordTopology } from 'switchyard/lib') before app.synth(), then run the command again.",
    );
  }
  return models;
}
