/**
 * ServiceFunction's source map default, chosen on the cold-start figure of `npm run bench`
 * (messaging-core): no map and no `--enable-source-maps` unless the function asks for them.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ServiceFunction } from '../../lib';

const entry = path.join(__dirname, '..', 'fixtures', 'local-cloud', 'record-handler.ts');

/** Synthesizes one ServiceFunction, bundling it for real; returns its template and asset files. */
function synth(sourceMaps: boolean | undefined): { template: Template; files: string[] } {
  const outdir = mkdtempSync(path.join(tmpdir(), 'switchyard-source-maps-'));
  try {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Maps');
    new ServiceFunction(stack, 'Fn', { entry, environment: { GREETING: 'hi' }, sourceMaps });
    const assembly = app.synth();
    const assetDir = readdirSync(assembly.directory).find((d) => d.startsWith('asset.'))!;
    return {
      template: Template.fromStack(stack),
      files: readdirSync(path.join(assembly.directory, assetDir)).sort(),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

test('by default the bundle carries no source map and Node is not asked to read one', () => {
  const { template, files } = synth(undefined);
  expect(files).toEqual(['index.js']);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: { GREETING: 'hi' } },
  });
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
  expect(fn?.Properties.Environment.Variables.NODE_OPTIONS).toBeUndefined();
}, 120_000);

test('sourceMaps: true ships the map and starts Node with --enable-source-maps', () => {
  const { template, files } = synth(true);
  expect(files).toEqual(['index.js', 'index.js.map']);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: { GREETING: 'hi', NODE_OPTIONS: '--enable-source-maps' } },
  });
}, 120_000);
