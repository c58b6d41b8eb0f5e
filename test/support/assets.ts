import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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

/** Set by the jest global setup: one directory per test run where synthesized assemblies are kept. */
export const ASSET_CACHE_VARIABLE = 'HYBRID_ROUTING_ASSET_CACHE';

interface StoredAsset extends Omit<FunctionAsset, 'file'> {
  /** The handler file, relative to the cloud assembly. */
  readonly file: string;
}

/**
 * Synthesizes one environment into a cloud assembly, as `cdk synth` does, and returns each
 * function's bundled asset and environment by the prefix of its logical id. Within one test run
 * (`ASSET_CACHE_VARIABLE` set) an environment is synthesized once and every test file reads the
 * same assembly: bundling every function again for each file was most of the suite's time.
 */
export function synthesizeAssets(environmentName = 'dev'): Record<string, FunctionAsset> {
  const cache = process.env[ASSET_CACHE_VARIABLE];
  const assemblyDir = cache ? path.join(cache, environmentName) : undefined;
  if (!assemblyDir || !existsSync(path.join(assemblyDir, ASSET_INDEX))) {
    const outdir = mkdtempSync(path.join(cache ?? tmpdir(), `hybrid-routing-cdk-out-${environmentName}-`));
    writeFileSync(path.join(outdir, ASSET_INDEX), JSON.stringify(synthesizeInto(outdir, environmentName)));
    if (!assemblyDir) return resolveAssets(outdir);
    try {
      renameSync(outdir, assemblyDir);
    } catch {
      // Another test worker stored the same environment first; use that one.
    }
  }
  return resolveAssets(assemblyDir);
}

const ASSET_INDEX = 'function-assets.json';

function synthesizeInto(outdir: string, environmentName: string): Record<string, StoredAsset> {
  const app = new App({ outdir, context: { ...cdkJson.context, env: environmentName, 'aws:cdk:enable-asset-metadata': true } });
  buildApp(app);
  const stack = app.synth().stacks[0]!;
  const template = JSON.parse(readFileSync(path.join(outdir, stack.templateFile), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: any; Metadata?: Record<string, string> }>;
  };
  const assets: Record<string, StoredAsset> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !resource.Metadata?.['aws:asset:path']) continue;
    assets[id] = {
      file: path.join(resource.Metadata['aws:asset:path'], 'index.mjs'),
      environment: resource.Properties.Environment?.Variables ?? {},
      timeoutSeconds: resource.Properties.Timeout ?? 3,
    };
  }
  return assets;
}

function resolveAssets(assemblyDir: string): Record<string, FunctionAsset> {
  const stored = JSON.parse(readFileSync(path.join(assemblyDir, ASSET_INDEX), 'utf8')) as Record<string, StoredAsset>;
  return Object.fromEntries(Object.entries(stored).map(([id, asset]) => [id, { ...asset, file: path.join(assemblyDir, asset.file) }]));
}

export function assetByPrefix(assets: Record<string, FunctionAsset>, prefix: string): FunctionAsset {
  const match = Object.entries(assets).find(([id]) => id.startsWith(prefix));
  if (!match) throw new Error(`no function asset whose logical id starts with ${prefix}; have ${Object.keys(assets).join(', ')}`);
  return match[1];
}
