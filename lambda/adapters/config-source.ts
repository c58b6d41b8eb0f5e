import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { paginateGetParametersByPath, type SSMClient } from '@aws-sdk/client-ssm';
import type { StoreSnapshot } from '../core/rollback-latch';
import { CONTROL_CONFIG, parseRoutingConfig, type ParsedConfig, type RoutingConfig } from '../shared/routing-config';

/** Where the configuration in use came from. */
export type ConfigOrigin = 'store' | 'last-good' | 'control-default';

export interface ConfigSnapshot {
  readonly config: RoutingConfig;
  readonly origin: ConfigOrigin;
  /** When the store was last read successfully (epoch ms), if ever. */
  readonly readAt: number | undefined;
  /** Parameters that were missing or did not parse at the last read. */
  readonly problems: readonly string[];
}

export interface ConfigSourceOptions {
  readonly provider: SSMProvider;
  /** The environment's parameter path, e.g. `/hybrid-routing/prod`. */
  readonly path: string;
  /** Whole seconds, at least 1. */
  readonly ttlSeconds: number;
  readonly clock?: () => number;
  readonly onReadError?: (error: unknown, origin: ConfigOrigin) => void;
}

/**
 * The environment's configuration, read in one cached `GetParametersByPath` (Powertools
 * Parameters, `maxAge` = TTL) and parsed once per read. When SSM fails it keeps serving the last
 * good copy, and waits one TTL before asking SSM again; with no copy at all it serves the control
 * path.
 */
export class ConfigSource {
  private lastRaw: Record<string, unknown> | undefined;
  private lastGood: { config: RoutingConfig; problems: readonly string[]; readAt: number } | undefined;
  private retryAt = 0;
  private readonly clock: () => number;

  constructor(private readonly options: ConfigSourceOptions) {
    // Powertools Parameters counts maxAge in whole seconds; a fraction would expire at once.
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) {
      throw new Error(`ttlSeconds must be a whole number of seconds, at least 1, got ${options.ttlSeconds}`);
    }
    this.clock = options.clock ?? Date.now;
  }

  async current(): Promise<ConfigSnapshot> {
    const now = this.clock();
    if (now < this.retryAt) return this.fallback();
    try {
      const raw = (await this.options.provider.getMultiple(this.options.path, {
        maxAge: this.options.ttlSeconds,
        recursive: true,
      })) as Record<string, unknown> | undefined;
      // Powertools hands back the cached object until it expires, so a new object means a new read.
      if (raw !== this.lastRaw || !this.lastGood) {
        const { config, problems } = parseRoutingConfig(asStrings(raw ?? {}));
        this.lastRaw = raw;
        this.lastGood = { config, problems, readAt: now };
      }
      return { config: this.lastGood.config, origin: 'store', readAt: this.lastGood.readAt, problems: this.lastGood.problems };
    } catch (error) {
      this.retryAt = now + this.options.ttlSeconds * 1000;
      const snapshot = this.fallback();
      this.options.onReadError?.(error, snapshot.origin);
      return snapshot;
    }
  }

  private fallback(): ConfigSnapshot {
    if (this.lastGood) {
      return { config: this.lastGood.config, origin: 'last-good', readAt: this.lastGood.readAt, problems: this.lastGood.problems };
    }
    return { config: CONTROL_CONFIG, origin: 'control-default', readAt: undefined, problems: [] };
  }
}

function asStrings(raw: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) if (typeof value === 'string') out[key] = value;
  return out;
}

/**
 * Reads the whole path now, bypassing any cache: what decisions that write (admin, rollback,
 * health) need. Paginates through Powertools; throws when SSM cannot be read.
 */
export async function readConfigNow(provider: SSMProvider, path: string): Promise<ParsedConfig & { readonly values: Record<string, string> }> {
  const raw = (await provider.getMultiple(path, { recursive: true, forceFetch: true })) ?? {};
  const values = asStrings(raw as Record<string, unknown>);
  return { ...parseRoutingConfig(values), values };
}

/**
 * Reads the whole path now with the SDK, paginated, keeping each parameter's raw value and version:
 * what the writers of the latch, flag and traffic need to notice writes they did not see
 * (`lambda/core/rollback-latch.ts`). Names are relative to `path`. Throws when SSM cannot be read.
 */
export async function readVersionedConfig(client: SSMClient, path: string): Promise<StoreSnapshot> {
  const values: Record<string, string> = {};
  const versions: Record<string, number> = {};
  for await (const page of paginateGetParametersByPath({ client, pageSize: 10 }, { Path: path, Recursive: true })) {
    for (const parameter of page.Parameters ?? []) {
      if (!parameter.Name?.startsWith(`${path}/`) || parameter.Value === undefined) continue;
      const name = parameter.Name.slice(path.length + 1);
      values[name] = parameter.Value;
      versions[name] = parameter.Version ?? 0;
    }
  }
  return { ...parseRoutingConfig(values), values, versions };
}
