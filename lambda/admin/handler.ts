import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { SSMClient, paginateGetParameterHistory } from '@aws-sdk/client-ssm';
import { readConfigNow } from '../adapters/config-source';
import { numberEnv, requireEnv } from '../adapters/environment';
import { ParameterWriter } from '../adapters/parameter-writer';
import { createTelemetry } from '../adapters/telemetry';
import type { ParameterVersion } from '../core/audit';
import { SERVICE } from '../shared/metric-catalog';
import { createAdminApp } from './admin-app';

// Module scope: built once per container.
const environment = requireEnv('ENVIRONMENT');
const path = requireEnv('CONFIG_PATH');
const { logger } = createTelemetry(SERVICE.admin, environment);
const ssm = new SSMClient({});
const parameters = new SSMProvider({ awsSdkV3Client: ssm });

async function readHistory(name: string): Promise<ParameterVersion[]> {
  const versions: ParameterVersion[] = [];
  try {
    for await (const page of paginateGetParameterHistory({ client: ssm, pageSize: 50 }, { Name: name })) {
      for (const v of page.Parameters ?? []) {
        versions.push({
          name,
          version: v.Version ?? 0,
          value: v.Value ?? '',
          description: v.Description ?? '',
          modifiedAt: v.LastModifiedDate ?? new Date(0),
          modifiedBy: v.LastModifiedUser ?? 'unknown',
        });
      }
    }
  } catch (error) {
    if (error instanceof Error && error.name === 'ParameterNotFound') return [];
    throw error;
  }
  return versions;
}

export const handler = createAdminApp({
  environment,
  path,
  readConfig: () => readConfigNow(parameters, path),
  readHistory,
  writer: new ParameterWriter(ssm),
  logger,
  healthPeriodMs: numberEnv('HEALTH_CHECK_PERIOD_SECONDS', 60) * 1000,
});
