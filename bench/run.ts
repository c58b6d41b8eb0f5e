/**
 * `npm run bench`: measures the router's in-process overhead, bundle size, module-load time and
 * SSM reads, prints them against their targets, and writes bench/results.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { assetByPrefix, synthesizeAssets } from '../test/support/assets';

const LOAD_RUNS = 15;
const TARGETS = { overheadP50Ms: 0.2, overheadP99Ms: 1, bundleKB: 800, moduleLoadMs: 150, ssmReadsPerTtl: 1 };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function measureOverhead() {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'bench-')), 'overhead.json');
  // The router logs and emits EMF on stdout, as in Lambda; the child's stdout goes nowhere.
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'overhead.ts'), out], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, POWERTOOLS_DEV: '' },
  });
  if (child.status !== 0) throw new Error(`overhead benchmark failed with status ${child.status}`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

function measureModuleLoad(file: string, environment: Record<string, string>): number[] {
  const script = `const t = performance.now(); await import(${JSON.stringify(`file://${file}`)}); console.log(performance.now() - t);`;
  return Array.from({ length: LOAD_RUNS }, () =>
    Number(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH, ...environment, AWS_REGION: 'eu-central-1', NODE_OPTIONS: '' },
        encoding: 'utf8',
      }).trim(),
    ),
  );
}

const router = assetByPrefix(synthesizeAssets('dev'), 'RouterApiRouterFunction');
const bundleBytes = statSync(router.file).size;
const loads = measureModuleLoad(router.file, router.environment);
const overhead = measureOverhead();
const ssmReadsPerTtl = overhead.ssm.reads / overhead.ssm.ttlWindows;

const results = {
  measuredAt: new Date().toISOString(),
  machine: { node: process.version, platform: `${process.platform}-${process.arch}` },
  routerOverhead: { ...overhead, target: { p50Ms: TARGETS.overheadP50Ms, p99Ms: TARGETS.overheadP99Ms } },
  routerBundle: { bytes: bundleBytes, kB: Math.round(bundleBytes / 1000), targetKB: TARGETS.bundleKB },
  routerModuleLoad: { runs: LOAD_RUNS, medianMs: median(loads), minMs: Math.min(...loads), maxMs: Math.max(...loads), targetMs: TARGETS.moduleLoadMs },
  ssmReads: { ...overhead.ssm, readsPerTtlWindow: ssmReadsPerTtl, target: TARGETS.ssmReadsPerTtl },
};
writeFileSync(path.join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

const row = (name: string, value: string, target: string, ok: boolean) => `${ok ? 'PASS' : 'MISS'}  ${name.padEnd(34)} ${value.padStart(14)}   target ${target}`;
console.log(
  [
    row('router overhead p50', `${overhead.overheadMs.p50.toFixed(3)} ms`, `<= ${TARGETS.overheadP50Ms} ms`, overhead.overheadMs.p50 <= TARGETS.overheadP50Ms),
    row('router overhead p99', `${overhead.overheadMs.p99.toFixed(3)} ms`, `<= ${TARGETS.overheadP99Ms} ms`, overhead.overheadMs.p99 <= TARGETS.overheadP99Ms),
    row('router bundle size', `${Math.round(bundleBytes / 1000)} kB`, `<= ${TARGETS.bundleKB} kB`, bundleBytes / 1000 <= TARGETS.bundleKB),
    row(`router module load (median of ${LOAD_RUNS})`, `${median(loads).toFixed(1)} ms`, `<= ${TARGETS.moduleLoadMs} ms`, median(loads) <= TARGETS.moduleLoadMs),
    row('SSM reads per TTL window', `${ssmReadsPerTtl.toFixed(2)}`, `<= 1 per ${overhead.ssm.ttlSeconds} s TTL`, ssmReadsPerTtl <= TARGETS.ssmReadsPerTtl),
    row('SSM reads per 10 000 requests', overhead.ssm.per10kRequests.toFixed(2), 'reported', true),
  ].join('\n'),
);
console.log(
  `\n${overhead.requests} timed requests; SSM: ${overhead.ssm.reads} reads (${overhead.ssm.getParametersByPathCalls} GetParametersByPath pages) over ${overhead.ssm.requests} requests in ${overhead.ssm.seconds.toFixed(2)} s ` +
    `(${overhead.ssm.ttlWindows} TTL windows); router bundle ${bundleBytes} bytes (${(bundleBytes / 1024).toFixed(1)} KiB). Written to bench/results.json`,
);
