import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import cdkJson from '../../cdk.json';
import { buildApp } from '../../lib/app';

export interface FunctionAsset {
  /** The bundled handler file inside the cloud assembly. */
  readonly file: string;
  /** The function's environment variables, as the template sets them. */
  readonly environment: Record<string, string>;
  /** The function's timeout, as the template sets it. */
  readonly timeoutSeconds: number;
}

/**
 * Synthesizes one environment into a fresh cloud assembly, as `cdk synth` does, and returns each
 * function's bundled asset and environment by the prefix of its logical id.
 */
export function synthesizeAssets(environmentName = 'dev'): Record<string, FunctionAsset> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'hybrid-routing-cdk-out-'));
  const app = new App({ outdir, context: { ...cdkJson.context, env: environmentName, 'aws:cdk:enable-asset-metadata': true } });
  buildApp(app);
  const assembly = app.synth();
  const stack = assembly.stacks[0]!;
  const template = JSON.parse(readFileSync(path.join(outdir, stack.templateFile), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: any; Metadata?: Record<string, string> }>;
  };
  const assets: Record<string, FunctionAsset> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !resource.Metadata?.['aws:asset:path']) continue;
    assets[id] = {
      file: path.join(outdir, resource.Metadata['aws:asset:path'], 'index.mjs'),
      environment: resource.Properties.Environment?.Variables ?? {},
      timeoutSeconds: resource.Properties.Timeout ?? 3,
    };
  }
  return assets;
}

export function assetByPrefix(assets: Record<string, FunctionAsset>, prefix: string): FunctionAsset {
  const match = Object.entries(assets).find(([id]) => id.startsWith(prefix));
  if (!match) throw new Error(`no function asset whose logical id starts with ${prefix}; have ${Object.keys(assets).join(', ')}`);
  return match[1];
}
