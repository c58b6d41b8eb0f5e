import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import packagedCdkJson from '../cdk.json';
import { stackNameOf } from '../lib/app';

/** Raised when the API URL cannot be found; the message says what to do. */
export class ApiUrlError extends Error {}

/** Raised when there are no AWS credentials to sign a request with, wherever that was found out. */
export class MissingCredentialsError extends Error {}

/** Whether an SDK or signer error says there are no usable credentials. */
export const isCredentialsError = (error: unknown): boolean => error instanceof Error && /credential/i.test(`${error.name} ${error.message}`);

/** The environments `--env` may name, as a cdk.json defines them. */
export interface CliEnvironments {
  readonly names: readonly string[];
  /** The region cdk.json gives an environment (default `eu-central-1`), or undefined for a name it does not define. */
  regionOf(environment: string): string | undefined;
}

/**
 * The environments of the cdk.json in `cwd`, as `cdk` itself reads them when run from the checkout,
 * or else those of the cdk.json the CLI ships with. A fourth entry there is a fourth `--env`.
 */
export function loadEnvironments(cwd: string): CliEnvironments {
  const environments = environmentsIn(path.join(cwd, 'cdk.json')) ?? (packagedCdkJson.context.environments as Record<string, { region?: string }>);
  return {
    names: Object.keys(environments),
    regionOf: (environment) => (environments[environment] ? (environments[environment]!.region ?? 'eu-central-1') : undefined),
  };
}

function environmentsIn(file: string): Record<string, { region?: string }> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const environments = (JSON.parse(readFileSync(file, 'utf8')) as { context?: { environments?: unknown } }).context?.environments;
    return environments && typeof environments === 'object' && !Array.isArray(environments) ? (environments as Record<string, { region?: string }>) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the `ApiUrl` output of the environment's stack from CloudFormation. */
export async function apiUrlOf(environment: string, region: string, credentials: AwsCredentialIdentityProvider): Promise<string> {
  const stackName = stackNameOf(environment);
  const client = new CloudFormationClient({ region, credentials });
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const url = Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'ApiUrl')?.OutputValue;
    if (!url) throw new ApiUrlError(`stack ${stackName} in ${region} has no ApiUrl output; is it deployed? (or pass --url)`);
    return url;
  } catch (error) {
    if (error instanceof ApiUrlError) throw error;
    if (isCredentialsError(error)) throw new MissingCredentialsError((error as Error).message);
    const name = error instanceof Error ? error.name : String(error);
    throw new ApiUrlError(`cannot read stack ${stackName} in ${region} (${name}); check your AWS credentials and region, or pass --url`);
  } finally {
    client.destroy();
  }
}
