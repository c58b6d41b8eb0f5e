import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import cdkJson from '../cdk.json';
import { stackNameOf } from '../lib/app';
import { ENVIRONMENT_NAMES } from '../lambda/shared/vocabulary';

/** Raised when the API URL cannot be found; the message says what to do. */
export class ApiUrlError extends Error {}

/** The region of an environment as cdk.json configures it. */
export function regionOf(environment: string): string | undefined {
  const environments = cdkJson.context.environments as Record<string, { region?: string }>;
  return environments[environment]?.region ?? (environments[environment] ? 'eu-central-1' : undefined);
}

/** Reads the `ApiUrl` output of the environment's stack from CloudFormation. */
export async function apiUrlOf(environment: string, region: string, credentials: AwsCredentialIdentityProvider): Promise<string> {
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(environment)) {
    throw new ApiUrlError(`--env must be one of ${ENVIRONMENT_NAMES.join(', ')}, got "${environment}"`);
  }
  const stackName = stackNameOf(environment);
  const client = new CloudFormationClient({ region, credentials });
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const url = Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'ApiUrl')?.OutputValue;
    if (!url) throw new ApiUrlError(`stack ${stackName} in ${region} has no ApiUrl output; is it deployed? (or pass --url)`);
    return url;
  } catch (error) {
    if (error instanceof ApiUrlError) throw error;
    const name = error instanceof Error ? error.name : String(error);
    throw new ApiUrlError(`cannot read stack ${stackName} in ${region} (${name}); check your AWS credentials and region, or pass --url`);
  } finally {
    client.destroy();
  }
}
