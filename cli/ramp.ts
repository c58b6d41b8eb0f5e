import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_BAKE_MINUTES, DEFAULT_GATES, DEFAULT_STEPS, MAX_BAKE_MINUTES, RAMP_ACTIONS, isOpen } from '../lambda/shared/ramp';
import type { ApiResponse } from './api-client';
import { formatRamp, formatState } from './format';
import type { CliIo } from './main';

/** What the ramp commands need from the CLI around them. */
export interface RampContext {
  readonly io: CliIo;
  readonly json: () => boolean;
  /** A request whose non-2xx answer has already been printed and turned into an exit. */
  readonly send: (method: string, path: string, body?: unknown) => Promise<ApiResponse>;
  /** The error that ends the CLI with `code`. */
  readonly exit: (code: number) => Error;
}

const RAMP_STOPPED_EXIT = 9;

const integers = (what: string, min: number, max: number) => (value: string): number[] => {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < min || Number(p) > max)) throw new InvalidArgumentError(`must be ${what}: integers from ${min} to ${max}, separated by commas`);
  return parts.map(Number);
};
const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
};
const positiveInt = (value: string): number => {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
};

interface StartOptions {
  reason: string;
  steps?: number[];
  bake?: number[];
  maxErrorRate?: number;
  maxP95?: number;
  minSamples?: number;
  watch?: boolean;
  interval: number;
}

/**
 * `hybrid-routing ramp start|status|pause|resume|abort` (DESIGN §10). `status --watch` redraws the
 * step, the bake time left and each gate against its threshold until the ramp ends: in place on a
 * terminal, as plain blocks of lines otherwise, and as one JSON object per refresh with `--json`.
 */
export function rampCommand(ctx: RampContext, parent: Command): Command {
  const { io } = ctx;
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const write = io.write ?? ((text: string) => void process.stdout.write(text));
  const tty = io.isTTY ?? process.stdout.isTTY === true;

  /** Prints one answer of a POST: the ramp, then the configuration it left. */
  const printAnswer = (response: ApiResponse) => {
    if (ctx.json()) return io.stdout(JSON.stringify(response.body, null, 2));
    if (response.body.message) io.stdout(response.body.message);
    io.stdout(formatRamp({ ramp: response.body.ramp, progress: response.body.progress ?? null, evaluation: null }));
    io.stdout('');
    io.stdout(formatState(response.body.state));
  };

  /** Shows the ramp once, or refreshes it until it ends; a ramp that ended rolled back or aborted exits 9. */
  const status = async (watch: boolean, intervalSeconds: number): Promise<void> => {
    let drawnLines = 0;
    for (let refresh = 0; ; refresh += 1) {
      const view = (await ctx.send('GET', 'admin/ramp')).body;
      if (ctx.json()) {
        io.stdout(JSON.stringify(watch ? { at: new Date().toISOString(), ...view } : view, watch ? undefined : null, watch ? undefined : 2));
      } else if (watch && tty) {
        const frame = `${formatRamp(view)}\n(refreshing every ${intervalSeconds} s; Ctrl-C stops watching, not the ramp)\n`;
        write(`${drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[J` : ''}${frame}`);
        drawnLines = frame.split('\n').length - 1;
      } else {
        if (watch && refresh > 0) io.stdout('');
        io.stdout(watch ? `${new Date().toISOString()}\n${formatRamp(view)}` : formatRamp(view));
      }
      const ended = !view.ramp || !isOpen(view.ramp.status);
      if (!watch || ended) {
        if (watch && view.ramp && (view.ramp.status === 'rolled-back' || view.ramp.status === 'aborted')) throw ctx.exit(RAMP_STOPPED_EXIT);
        return;
      }
      await sleep(intervalSeconds * 1000);
    }
  };

  // Made from the parent, so it and its subcommands inherit its settings (exit override, output, help).
  const ramp = parent.command('ramp').description(
    `the automated ramp: ${DEFAULT_STEPS.join(' → ')} % on evidence, promoted, paused or rolled back by go/no-go gates every minute`,
  );

  ramp
    .command('start')
    .description('start an automated ramp: hybrid routing on at the first step, then promoted by the ramp controller as each step\'s gates pass')
    .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
    .option('--steps <list>', `traffic percentages, rising (default ${DEFAULT_STEPS.join(',')})`, integers('rising percentages', 1, 100))
    .option('--bake <minutes>', `minutes each step bakes: one number for all, or one per step (default ${DEFAULT_BAKE_MINUTES.join(',')})`, integers('minutes', 0, MAX_BAKE_MINUTES))
    .option('--max-error-rate <percent>', `the hybrid error rate each step must stay below (default ${DEFAULT_GATES.errorRatePercent})`, positiveNumber)
    .option('--max-p95 <ms>', `the hybrid p95 latency each step must stay within (default ${DEFAULT_GATES.latencyP95Ms})`, positiveInt)
    .option('--min-samples <n>', `hybrid requests a step needs before its gates can pass (default ${DEFAULT_GATES.minSamples})`, positiveInt)
    .option('--watch', 'then watch it until it ends')
    .option('--interval <seconds>', 'with --watch: seconds between refreshes', positiveNumber, 10)
    .action(async (options: StartOptions) => {
      const gates = {
        ...(options.maxErrorRate === undefined ? {} : { errorRatePercent: options.maxErrorRate }),
        ...(options.maxP95 === undefined ? {} : { latencyP95Ms: options.maxP95 }),
        ...(options.minSamples === undefined ? {} : { minSamples: options.minSamples }),
      };
      const body = {
        reason: options.reason,
        ...(options.steps ? { steps: options.steps } : {}),
        ...(options.bake ? { bakeMinutes: options.bake.length === 1 ? options.bake[0] : options.bake } : {}),
        ...(Object.keys(gates).length > 0 ? { gates } : {}),
      };
      printAnswer(await ctx.send('POST', 'admin/ramp', body));
      if (options.watch) {
        io.stdout('');
        await status(true, options.interval);
      }
    });

  ramp
    .command('status')
    .description('show the ramp: step, bake time left, each gate judged now against its threshold, and the last transition')
    .option('--watch', 'refresh until the ramp ends (exit 9 if it ends rolled back or aborted)')
    .option('--interval <seconds>', 'with --watch: seconds between refreshes', positiveNumber, 10)
    .action(async (options: { watch?: boolean; interval: number }) => status(options.watch === true, options.interval));

  const descriptions: Record<(typeof RAMP_ACTIONS)[number], string> = {
    pause: 'stop promoting; the step keeps its traffic, and a gate that fails with enough evidence still rolls back',
    resume: 'resume a paused ramp: its step starts over, at its traffic, under the same checks as a start',
    abort: 'end the ramp with a manual level-2 rollback (flag off, traffic 0, latch set)',
  };
  for (const action of RAMP_ACTIONS) {
    ramp
      .command(action)
      .description(descriptions[action])
      .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
      .action(async (options: { reason: string }) => printAnswer(await ctx.send('POST', `admin/ramp/${action}`, { reason: options.reason })));
  }
  return ramp;
}
