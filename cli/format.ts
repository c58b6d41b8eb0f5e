import type { SmokeCheck } from '../lambda/core/smoke-test';

/** Renders rows as aligned columns under a header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Renders label/value pairs as two aligned columns. */
export function pairs(entries: readonly [string, string][]): string {
  const width = Math.max(...entries.map(([label]) => label.length));
  return entries.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

const shorten = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function formatState(state: any): string {
  const { code } = state.rollback;
  const latch = state.rollback.active
    ? `ACTIVE level ${state.rollback.level} since ${state.rollback.at} by ${state.rollback.source}: ${state.rollback.reason}${code ? ` (router code: version ${code.from} -> ${code.to})` : ''}`
    : code
      ? `clear (cleared at ${state.rollback.clearedAt}; the level-3 rollback before it moved the router code from version ${code.from} to ${code.to}, and the clear did not move it back)`
      : 'clear';
  const components = Object.entries(state.health.components as Record<string, string>).map(([c, s]) => `${c} ${s}`).join(', ');
  return pairs([
    ['environment', state.environment],
    ['hybrid routing', state.hybridEnabled ? 'on' : 'off'],
    ['traffic', `${state.trafficPercentage}% (effective ${state.effectiveTrafficPercentage}%)`],
    ['mode', state.mode],
    ['rollback latch', latch],
    ['breaker epoch', String(state.breakerEpoch)],
    ['health', `${state.health.status} (${components})`],
    ...(state.problems.length > 0 ? [['problems', state.problems.join('; ')] as [string, string]] : []),
  ]);
}

export function formatHealth(components: Record<string, any>): string {
  return table(
    ['COMPONENT', 'STATUS', 'LAST CHECKED', 'LATENCY', 'FAILURES', 'MESSAGE'],
    Object.entries(components).map(([name, h]) => [
      name,
      h.status,
      h.lastCheckedAt ?? '-',
      h.latencyMs === null ? '-' : `${h.latencyMs} ms`,
      String(h.consecutiveFailures),
      shorten(h.message, 80),
    ]),
  );
}

export function formatAudit(entries: readonly any[]): string {
  if (entries.length === 0) return 'no changes recorded';
  return table(
    ['WHEN', 'PARAMETER', 'CHANGE', 'WHO', 'REASON'],
    entries.map((e) => [
      e.at,
      e.parameter,
      `${shorten(e.oldValue ?? '(created)', 24)} -> ${shorten(e.newValue, 24)}`,
      shorten(String(e.who).replace(/^arn:aws[a-z-]*:(sts|iam)::\d{12}:/, ''), 40),
      shorten(e.reason, 60),
    ]),
  );
}

/** The smoke test's table: one row per check, then what failed and why. */
export function formatSmoke(checks: readonly SmokeCheck[]): string {
  const rows = table(
    ['CHECK', 'PROVIDER', 'FALLBACK', 'LATENCY', 'TARGET', 'RESULT'],
    checks.map((c) => [
      c.check,
      c.provider ?? '-',
      c.fallback === undefined ? '-' : c.fallback ? 'yes' : 'no',
      c.latencyMs === undefined ? '-' : `${c.latencyMs} ms`,
      c.targetMs === undefined ? '-' : `${c.targetMs} ms`,
      c.pass ? 'pass' : 'FAIL',
    ]),
  );
  const failed = checks.filter((c) => !c.pass);
  const summary = failed.length === 0 ? `all ${checks.length} checks passed` : `${failed.length} of ${checks.length} checks failed:\n${failed.map((c) => `  ${c.check}: ${c.detail}`).join('\n')}`;
  return `${rows}\n\n${summary}`;
}
