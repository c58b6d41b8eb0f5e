import { gateThreshold, gateValue } from '../lambda/core/ramp-notices';
import type { SmokeCheck } from '../lambda/core/smoke-test';
import type { GateResult } from '../lambda/shared/ramp';

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
    ...(state.ramp ? [['ramp', rampLine(state.ramp)] as [string, string]] : []),
    ...(state.problems.length > 0 ? [['problems', state.problems.join('; ')] as [string, string]] : []),
  ]);
}

/** The ramp as `/admin/status` summarises it, on one line. */
function rampLine(ramp: any): string {
  if (ramp.status === 'unreadable') return `ramp/state cannot be read: ${ramp.problem}`;
  return `${ramp.status} at step ${ramp.step} of ${ramp.steps.length} (${ramp.trafficPercentage}%) since ${ramp.updatedAt}${ramp.open ? ' ("ramp status" for its gates)' : ''}`;
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
      shortenStart(String(e.who).replace(/^arn:aws[a-z-]*:(sts|iam)::\d{12}:/, ''), 40),
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

const BAR_WIDTH = 24;

/** `12m 05s` */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m ${rest}s` : `${m}m ${rest}s`;
}

/** `[#########---------------]`: how much of the bake time has passed. */
export function progressBar(elapsedSeconds: number, totalSeconds: number, width = BAR_WIDTH): string {
  const done = totalSeconds <= 0 ? width : Math.min(width, Math.floor((elapsedSeconds / totalSeconds) * width));
  return `[${'#'.repeat(done)}${'-'.repeat(width - done)}]`;
}

/**
 * `GET /admin/ramp` as operators read it: the step, the bake time passed and left, each gate's
 * value against its threshold, why the step does not promote yet, and the last transition.
 */
export function formatRamp(view: any): string {
  if (!view.ramp) return view.problem ? `ramp/state cannot be read: ${view.problem}` : 'no ramp has run; start one with "hybrid-routing ramp start --reason ..."';
  const ramp = view.ramp;
  const step = `step ${ramp.stepIndex + 1} of ${ramp.steps.length} at ${ramp.steps[ramp.stepIndex]}%`;
  const lines = [`ramp ${ramp.status.toUpperCase()} · ${step} · ${ramp.steps.join(' → ')} %`];
  const progress = view.progress;
  if (progress) {
    const total = progress.bakeMinutes * 60;
    const left = progress.bakeLeftSeconds > 0 ? `${duration(progress.bakeLeftSeconds)} left` : 'bake time passed';
    lines.push(`bake   ${progressBar(progress.elapsedSeconds, total)} ${duration(Math.min(progress.elapsedSeconds, total))} of ${duration(total)} · ${left}`);
  }
  const evaluation = view.evaluation ?? ramp.lastEvaluation;
  if (evaluation) {
    const window = evaluation.figures.window ? `over the step since ${evaluation.figures.window.start}` : 'before the step\'s first whole minute';
    lines.push(`gates  ${evaluation.verdict.toUpperCase()} at ${evaluation.at}, ${window}`, ...gateRows(evaluation));
    if (evaluation.reasons.length > 0 && ramp.status === 'running') lines.push(`why not promoted yet:`, ...evaluation.reasons.map((r: string) => `  - ${r}`));
    if (progress?.pausesWithoutEvidenceAt && evaluation.verdict !== 'pass') lines.push(`pauses without enough evidence at ${progress.pausesWithoutEvidenceAt}`);
  }
  lines.push(`last   ${ramp.status} at ${ramp.updatedAt} by ${shortenStart(ramp.by, 48)}: ${ramp.reason}`);
  return lines.join('\n');
}

function gateRows(evaluation: any): string[] {
  return table(
    ['  GATE', 'RESULT', 'VALUE', 'THRESHOLD'],
    evaluation.gates.map((g: GateResult) => [`  ${g.gate}`, g.outcome, gateValue(g), gateThreshold(g)]),
  ).split('\n');
}

/** Keeps the end of a long text, where an ARN says who: `…role/operators/alice`. */
export function shortenStart(text: string, max: number): string {
  return text.length > max ? `…${text.slice(text.length - max + 1)}` : text;
}
