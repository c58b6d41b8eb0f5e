import type { GateResult, RampEvaluation, RampState } from '../shared/ramp';
import type { Notice } from './rollback-notices';

/** A transition of the automated ramp, as it is announced. */
export type RampTransitionKind = 'started' | 'promoted' | 'done' | 'paused' | 'resumed' | 'aborted' | 'rolled-back';

const UNIT: Record<GateResult['gate'], string> = {
  'hybrid-error-rate': '%',
  'hybrid-vs-control': ' points',
  'hybrid-latency-p95': ' ms',
  'rollback-alarms': ' in ALARM',
  'direct-bedrock-health': '',
  'mcp-router-health': '',
};

/** A gate's judged value with its unit, or `no data`. */
export function gateValue(g: GateResult): string {
  return g.value === null ? 'no data' : `${g.value}${UNIT[g.gate]}`;
}

/** What a gate needs to pass, with the evidence its verdict rests on when it has some. */
export function gateThreshold(g: GateResult): string {
  if (g.gate === 'hybrid-vs-control') return `not worse at 95%${g.evidence === null ? '' : ` (one-sided p = ${g.evidence})`}`;
  if (g.gate === 'rollback-alarms') return 'none in ALARM';
  if (g.gate.endsWith('-health')) return 'every check passed';
  const bound = g.evidence === null ? '' : g.gate === 'hybrid-latency-p95' ? ` (share slower: 95% lower bound ${g.evidence}%, fails above 5%)` : ` (95% lower bound ${g.evidence}%)`;
  return `${g.gate === 'hybrid-error-rate' ? '<' : '<='} ${g.threshold}${UNIT[g.gate]}${bound}`;
}

/** One line per gate: its outcome, value and threshold, the way operators read the go/no-go. */
export function gateLines(evaluation: RampEvaluation): string[] {
  return evaluation.gates.map((g) => `  ${g.gate.padEnd(22)} ${g.outcome.toUpperCase().padEnd(14)} ${gateValue(g)} (${gateThreshold(g)})`);
}

const NEXT: Record<RampTransitionKind, (environment: string) => string[]> = {
  started: (env) => [`Watch it: hybrid-routing --env ${env} ramp status --watch`],
  promoted: (env) => [`Watch it: hybrid-routing --env ${env} ramp status --watch`],
  resumed: (env) => [`Watch it: hybrid-routing --env ${env} ramp status --watch`],
  done: () => ['Hybrid routing now serves every caller at the last step.'],
  paused: (env) => [
    'The ramp holds its traffic and does not promote; a gate that fails with enough evidence still rolls it back.',
    `  hybrid-routing --env ${env} ramp resume --reason "<why>"   # the step starts over`,
    `  hybrid-routing --env ${env} ramp abort --reason "<why>"    # rollback level 2`,
  ],
  aborted: (env) => [`The rollback latch is set. Once the cause is fixed, clear it and start again after the hold-down:`, `  hybrid-routing --env ${env} rollback clear --reason "<what was fixed>"`, `  hybrid-routing --env ${env} ramp start --reason "<why>"`],
  'rolled-back': (env) => [`Once the cause is fixed and the rollback alarms are OK, clear the latch and start again after the hold-down:`, `  hybrid-routing --env ${env} rollback clear --reason "<what was fixed>"`, `  hybrid-routing --env ${env} ramp start --reason "<why>"`],
};

/** The notice of one ramp transition: what happened, why, the figures that decided it, and what next. */
export function rampNotice(environment: string, kind: RampTransitionKind, ramp: RampState): Notice {
  const step = `step ${ramp.stepIndex + 1} of ${ramp.steps.length} (${ramp.steps[ramp.stepIndex]}%)`;
  const evaluation = ramp.lastEvaluation;
  return {
    subject: `Hybrid Routing ${environment}: ramp ${kind} at ${ramp.steps[ramp.stepIndex]}%`,
    message: [
      `The automated ramp of hybrid routing in ${environment} ${kind === 'done' ? 'is done' : `was ${kind}`} at ${ramp.updatedAt}, at ${step}, by ${ramp.by}.`,
      `Why: ${ramp.reason}`,
      `Ramp: ${ramp.steps.join(' → ')} %, baking ${ramp.bakeMinutes.join(', ')} minutes; gates: error rate < ${ramp.gates.errorRatePercent}%, p95 <= ${ramp.gates.latencyP95Ms} ms, at least ${ramp.gates.minSamples} requests.`,
      ...(evaluation
        ? ['', `Gates over the step from ${evaluation.figures.window?.start ?? 'its start'} to ${evaluation.at}: ${evaluation.verdict.toUpperCase()}`, ...gateLines(evaluation)]
        : []),
      '',
      ...NEXT[kind](environment),
    ].join('\n'),
  };
}
