import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { paginateGetParametersByPath, type SSMClient } from '@aws-sdk/client-ssm';
import type { StoreSnapshot } from '../core/rollback-latch';
import { CONTROL_CONFIG, parseRoutingConfig, type ParsedConfig, type RoutingConfig } from '../shared/routing-config';

/**
 * Where the configuration in use came from: `store` is a copy younger than the TTL, `last-good`
 * an older one kept because SSM did not answer in time, `control-default` no copy at all.
 */
export type ConfigOrigin = 'store' | 'last-good' | 'control-default';

export interface ConfigSnapshot {
  readonly config: RoutingConfig;
  readonly origin: ConfigOrigin;
  /** When the read that produced the copy started (epoch ms), if there is a copy. */
  readonly readAt: number | undefined;
  /** Parameters that were missing or did not parse at the last read. */
  readonly problems: readonly string[];
}

/** What the source needs of Powertools' `SSMProvider`: one read of a whole path. */
export interface ParameterPathReader {
  getMultiple(path: string, options: { readonly recursive: boolean; readonly forceFetch: boolean }): Promise<unknown>;
}

export interface ConfigSourceOptions {
  readonly provider: ParameterPathReader;
  /** The environment's parameter path, e.g. `/hybrid-routing/prod`. */
  readonly path: string;
  /** Whole seconds, at least 1. */
  readonly ttlSeconds: number;
  readonly clock?: () => number;
  /** Called once per failed read, with what is served until a read works. */
  readonly onReadError?: (error: unknown, origin: ConfigOrigin) => void;
  /** Called once per successful read that found missing or unparseable parameters. */
  readonly onProblems?: (problems: readonly string[]) => void;
}

/**
 * The environment's configuration: the whole path in one `GetParametersByPath` (Powertools
 * Parameters, `forceFetch` on this class's own timing), parsed once per read.
 *
 * - A copy younger than half the TTL is served as is.
 * - From half the TTL on, a request starts one background read (single flight) and is served the
 *   copy at once; the copy is served until the TTL ends, so a change reaches every router within
 *   the TTL.
 * - After the TTL, a request waits for the read at most as long as it is given (invariant 6), then
 *   serves the last good copy, or the control path when it has none.
 * - A failed read keeps the copy and is retried after half the TTL, so SSM sees no more reads
 *   while it fails than while it works.
 */
export class ConfigSource {
  private copy: { readonly config: RoutingConfig; readonly problems: readonly string[]; readonly readAt: number } | undefined;
  private reading: Promise<void> | undefined;
  private retryAt = 0;
  private invoking = false;
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(private readonly options: ConfigSourceOptions) {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) {
      throw new Error(`ttlSeconds must be a whole number of seconds, at least 1, got ${options.ttlSeconds}`);
    }
    this.ttlMs = options.ttlSeconds * 1000;
    this.clock = options.clock ?? Date.now;
  }

  /** The configuration to serve now, waiting at most `waitMs` for a read when the copy has expired. */
  async current(waitMs: number): Promise<ConfigSnapshot> {
    this.invoking = true;
    const now = this.clock();
    const age = this.copy ? now - this.copy.readAt : Infinity;
    if (age < this.ttlMs / 2) return this.snapshot(now);
    if (now >= this.retryAt) this.refresh();
    if (age < this.ttlMs || !this.reading || waitMs <= 0) return this.snapshot(now);

    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.reading, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    return this.snapshot(this.clock());
  }

  /** The configuration in use, without reading: what a request needs to know before `current`. */
  latest(): RoutingConfig {
    return this.copy?.config ?? CONTROL_CONFIG;
  }

  /**
   * Marks the end of an invocation. Lambda may freeze the process before a read in flight
   * settles, and the read's timeouts then fire at the thaw whatever SSM did; a read that fails
   * between invocations is therefore retried by the next request instead of backing off.
   */
  idle(): void {
    this.invoking = false;
  }

  private refresh(): void {
    if (this.reading) return;
    const startedAt = this.clock();
    const reading = this.read(startedAt).finally(() => {
      if (this.reading === reading) this.reading = undefined;
    });
    this.reading = reading;
  }

  private async read(startedAt: number): Promise<void> {
    try {
      const raw = (await this.options.provider.getMultiple(this.options.path, { recursive: true, forceFetch: true })) as
        | Record<string, unknown>
        | undefined;
      const { config, problems } = parseRoutingConfig(asStrings(raw ?? {}));
      // Counted from the start of the read: the copy holds nothing older than that.
      this.copy = { config, problems, readAt: startedAt };
      this.retryAt = 0;
      if (problems.length > 0) this.options.onProblems?.(problems);
    } catch (error) {
      if (this.invoking) this.retryAt = this.clock() + this.ttlMs / 2;
      this.options.onReadError?.(error, this.copy ? 'last-good' : 'control-default');
    }
  }

  private snapshot(now: number): ConfigSnapshot {
    if (!this.copy) return { config: CONTROL_CONFIG, origin: 'control-default', readAt: undefined, problems: [] };
    const origin = now - this.copy.readAt < this.ttlMs ? 'store' : 'last-good';
    return { config: this.copy.config, origin, readAt: this.copy.readAt, problems: this.copy.problems };
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
