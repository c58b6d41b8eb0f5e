import { paginateGetParameterHistory, type SSMClient } from '@aws-sdk/client-ssm';
import type { ParameterVersion } from '../core/audit';
import type { LatchStore } from '../core/rollback-latch';
import { readVersionedConfig } from './config-source';
import type { ParameterWriter } from './parameter-writer';

export interface ParameterStoreOptions {
  readonly client: SSMClient;
  /** The environment's parameter path, e.g. `/hybrid-routing/prod`. */
  readonly path: string;
  readonly writer: ParameterWriter;
}

/**
 * The configuration store of one environment as its writers see it: fresh versioned reads of the
 * whole path, writes that answer the new version, and each parameter's history. Names are
 * relative to the path.
 */
export function createParameterStore({ client, path, writer }: ParameterStoreOptions): LatchStore {
  return {
    read: () => readVersionedConfig(client, path),
    put: (name, value, description) => writer.put(`${path}/${name}`, value, description),
    history: (name) => readHistory(client, path, name),
  };
}

async function readHistory(client: SSMClient, path: string, name: string): Promise<ParameterVersion[]> {
  const versions: ParameterVersion[] = [];
  try {
    for await (const page of paginateGetParameterHistory({ client, pageSize: 50 }, { Name: `${path}/${name}` })) {
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
