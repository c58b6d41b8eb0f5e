/**
 * Router overhead, in-process: the real router app (validation, cached config through
 * Powertools and the real SSM client against the SSM fake, routing, breakers, logs and EMF)
 * with instant in-process providers, against calling the provider directly.
 * Run by bench/run.ts with stdout discarded; writes its figures to the file named in argv[2].
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { ConfigSource } from '../lambda/adapters/config-source';
import { createTelemetry } from '../lambda/adapters/telemetry';
import { CircuitBreakers } from '../lambda/core/circuit-breaker';
import { CohortAssigner } from '../lambda/core/cohort';
import { HybridRouter, type AiProvider, type ProviderResponse } from '../lambda/core/hybrid-router';
import { createRouterApp } from '../lambda/router/router-app';
import { DEFAULT_PARAMETER_VALUES, INITIAL_HEALTH_VALUE, healthParameter } from '../lambda/shared/routing-config';
import { COMPONENTS } from '../lambda/shared/vocabulary';
import { SsmFake } from '../test/fakes/ssm-fake';
import { invokeEvent } from '../test/integration/support/world';

const REQUESTS = 20_000;
const WARMUP = 2_000;
const TTL_SECONDS = 1;

const answer: ProviderResponse = { text: 'ok', stopReason: 'end_turn', usage: { inputTokens: 3, outputTokens: 1 } };
const instant: AiProvider = { invoke: async () => answer };

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const ssm = await new SsmFake().start();
  for (const [name, value] of Object.entries({ ...DEFAULT_PARAMETER_VALUES, 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '50' })) {
    ssm.put(`/hybrid-routing/bench/${name}`, value);
  }
  // As deployed: the config store also holds one health parameter per component.
  for (const component of COMPONENTS) ssm.put(`/hybrid-routing/bench/${healthParameter(component)}`, INITIAL_HEALTH_VALUE);
  const pagesPerRead = Math.ceil((Object.keys(DEFAULT_PARAMETER_VALUES).length + COMPONENTS.length) / 10);
  const { logger, metrics } = createTelemetry('router', 'bench');
  const breakers = new CircuitBreakers(Date.now);
  const configSource = new ConfigSource({
    provider: new SSMProvider({
      awsSdkV3Client: new SSMClient({ endpoint: ssm.url, region: 'eu-central-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } }),
    }),
    path: '/hybrid-routing/bench',
    ttlSeconds: TTL_SECONDS,
  });
  const router = new HybridRouter({
    providers: { bedrock: instant, mcp: instant },
    breakers,
    cohorts: new CohortAssigner(),
    clock: { now: Date.now, sleep: async () => undefined, random: Math.random },
    budgetCeilingMs: 28_000,
    healthStaleAfterMs: 180_000,
  });
  const app = createRouterApp({ router, breakers, configSource, logger, metrics, healthPeriodMs: 60_000 });
  const context = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 29_000 } as Context;
  const operations = ['emergency', 'infrastructure', 'standard-analysis', 'background'] as const;
  const events = Array.from({ length: 64 }, (_, i) =>
    invokeEvent({ operation: operations[i % operations.length], messages: [{ role: 'user', content: `request ${i}` }], routingKey: `tenant-${i}` }),
  );
  const request = { operation: 'emergency' as const, messages: [{ role: 'user' as const, content: 'x' }] };
  const signal = new AbortController().signal;

  ssm.resetCalls();
  const started = performance.now();
  for (let i = 0; i < WARMUP; i += 1) {
    await app(events[i % events.length]!, context);
    await instant.invoke(request, signal);
  }

  const routed = new Float64Array(REQUESTS);
  const direct = new Float64Array(REQUESTS);
  for (let i = 0; i < REQUESTS; i += 1) {
    let t = performance.now();
    await instant.invoke(request, signal);
    direct[i] = performance.now() - t;
    t = performance.now();
    const result = await app(events[i % events.length]!, context);
    routed[i] = performance.now() - t;
    if (result.statusCode !== 200) throw new Error(`bench request failed: ${result.body}`);
  }
  const elapsedSeconds = (performance.now() - started) / 1000;
  const reads = ssm.count('GetParametersByPath');
  routed.sort();
  direct.sort();
  await ssm.stop();

  writeFileSync(
    process.argv[2]!,
    JSON.stringify({
      requests: REQUESTS,
      routedMs: { p50: percentile(routed, 50), p99: percentile(routed, 99) },
      directMs: { p50: percentile(direct, 50), p99: percentile(direct, 99) },
      overheadMs: { p50: percentile(routed, 50) - percentile(direct, 50), p99: percentile(routed, 99) - percentile(direct, 99) },
      ssm: {
        ttlSeconds: TTL_SECONDS,
        requests: WARMUP + REQUESTS,
        seconds: elapsedSeconds,
        getParametersByPathCalls: reads,
        pagesPerRead,
        reads: reads / pagesPerRead,
        ttlWindows: Math.ceil(elapsedSeconds / TTL_SECONDS),
        per10kRequests: (reads / pagesPerRead / (WARMUP + REQUESTS)) * 10_000,
      },
    }),
  );
  process.exit(0);
}

void main();
