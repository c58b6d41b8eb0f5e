import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { OPERATION_CLASSES, judgeHealthReport, judgeInvokeAnswer, latencyTargetMs, smokeRequest, type SmokeCheck } from '../lambda/core/smoke-test';
import { DEFAULT_STEPS } from '../lambda/shared/ramp';
import { ROUTING_MODES } from '../lambda/shared/vocabulary';
import packageJson from '../package.json';
import { ApiClient, NetworkError, type ApiResponse } from './api-client';
import { ApiUrlError, MissingCredentialsError, apiUrlOf, isCredentialsError, loadEnvironments } from './api-url';
import { formatAudit, formatHealth, formatSmoke, formatState } from './format';
import { invokeCommand } from './invoke';
import { mergePolicy } from './policy';
import { rampCommand } from './ramp';

/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  forbidden: 3,
  notFound: 4,
  conflict: 5,
  unavailable: 6,
  network: 7,
  smokeFailed: 8,
  rampStopped: 9,
} as const;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Where credentials come from; the default AWS chain unless a test gives its own. */
  readonly credentials?: AwsCredentialIdentityProvider;
  readonly env?: NodeJS.ProcessEnv;
  /** Writes text as it is, without a newline: streamed tokens. @default process.stdout.write */
  readonly write?: (text: string) => void;
  /** Waits between polls of a job or refreshes of a watch. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where `cdk.json` is looked for, to know the environments. @default process.cwd() */
  readonly cwd?: string;
  /** Whether stdout is a terminal, for `--watch` to redraw in place. @default process.stdout.isTTY */
  readonly isTTY?: boolean;
  /**
   * Asks a yes/no question before a risky change; false when nobody can answer.
   * @default a prompt on a terminal, false otherwise
   */
  readonly confirm?: (question: string) => Promise<boolean>;
}

interface GlobalOptions {
  env?: string;
  url?: string;
  region?: string;
  json?: boolean;
}

class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

const HELP_FOOTER = `
The API URL comes from --url, or from the ApiUrl output of stack HybridRouting-<env> (--env).
Requests are signed with SigV4 using the default AWS credential chain (AWS_PROFILE, environment, SSO, ...).

Exit codes: 0 ok, 2 bad arguments or request (400), 3 not signed or not allowed (403),
4 not found (404), 5 refused (409: the rollback latch, a ramp that may not start or change now,
or a level-3 rollback that cannot run now), 6 throttled or unavailable (429/5xx), 7 the API cannot
be reached, 8 a smoke check failed, 9 a watched ramp ended rolled back or aborted, 1 anything else.`;

const percentage = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) > 100) throw new InvalidArgumentError('must be an integer from 0 to 100');
  return Number(value);
};
const positiveInt = (value: string): number => {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
};
const stageUrl = (value: string): string => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be the API\'s stage URL, e.g. https://abc123.execute-api.eu-central-1.amazonaws.com/prod/');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgumentError(`must be an http(s) URL, not ${url.protocol}`);
  return value;
};

/** The runbook step after `current`: raising traffic past it skips a step. */
export function nextRunbookStep(current: number): number | undefined {
  return DEFAULT_STEPS.find((step) => step > current);
}

/** Asks on the terminal; with no terminal there is nobody to ask, and the answer is no. */
async function promptYesNo(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const readline = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await readline.question(`${question} [y/N] `)).trim());
  } finally {
    readline.close();
  }
}

/** Runs the CLI with `argv` (without `node` and the script) and answers its exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const env = io.env ?? process.env;
  const credentials = io.credentials ?? fromNodeProviderChain();
  const environments = loadEnvironments(io.cwd ?? process.cwd());
  const confirm = io.confirm ?? promptYesNo;

  const program = new Command('hybrid-routing')
    .description('Operate Hybrid Routing: automated and manual traffic ramp, feature flag, routing mode and policy, rollback, health and audit.')
    .version(packageJson.version, '-V, --version', 'print the CLI\'s version')
    .configureHelp({ showGlobalOptions: true })
    .addOption(new Option('--env <name>', 'environment whose stack holds the API URL (the entries of cdk.json)').choices([...environments.names]))
    .option('--url <url>', 'API stage URL; overrides --env', stageUrl)
    .option('--region <region>', 'AWS region (default: the environment\'s region in cdk.json, or AWS_REGION)')
    .option('--json', 'print the API\'s JSON answer instead of a table')
    .addHelpText('after', HELP_FOOTER)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s.replace(/\n$/, '')), writeErr: (s) => io.stderr(s.replace(/\n$/, '')) });

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();

  // Resolved once per run: `smoke` times its requests, which must not include finding the API.
  let resolvedClient: Promise<ApiClient> | undefined;
  const client = (): Promise<ApiClient> => (resolvedClient ??= resolveClient());
  const resolveClient = async (): Promise<ApiClient> => {
    const { env: environment, url, region } = globals();
    const resolvedRegion = region ?? (environment ? environments.regionOf(environment) : undefined) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!url && !environment) {
      io.stderr(`error: say which API to call: --env <${environments.names.join('|')}> or --url <stage URL>`);
      throw new ExitWith(EXIT.usage);
    }
    if (!resolvedRegion) {
      io.stderr('error: no AWS region: pass --region or set AWS_REGION');
      throw new ExitWith(EXIT.usage);
    }
    try {
      const baseUrl = url ?? (await apiUrlOf(environment!, resolvedRegion, credentials));
      return new ApiClient({ baseUrl, region: resolvedRegion, credentials });
    } catch (error) {
      if (error instanceof ApiUrlError) {
        io.stderr(`error: ${error.message}`);
        throw new ExitWith(EXIT.network);
      }
      if (error instanceof MissingCredentialsError) noCredentials(error);
      throw error;
    }
  };

  /** Missing credentials exit the same way whether finding the API or calling it found out. */
  const noCredentials = (error: Error): never => {
    io.stderr(`error: no AWS credentials to sign the request with (${error.message}); set AWS_PROFILE or log in`);
    throw new ExitWith(EXIT.forbidden);
  };

  /** Sends one request; prints the answer and turns failures into exit codes. */
  const send = async (method: string, path: string, body?: unknown, query?: Record<string, string>, accept: readonly number[] = []): Promise<ApiResponse> =>
    check(await call((api) => api.request(method, path, body, query)), accept);

  /** Makes one call to the API, turning an unreachable API or missing credentials into exit codes. */
  const call = async <T>(request: (api: ApiClient) => Promise<T>): Promise<T> => {
    try {
      return await request(await client());
    } catch (error) {
      if (error instanceof NetworkError) {
        io.stderr(`error: ${error.message}`);
        throw new ExitWith(EXIT.network);
      }
      if (error instanceof ExitWith) throw error;
      if (isCredentialsError(error)) noCredentials(error as Error);
      throw error;
    }
  };

  /** Passes a 2xx answer (or one of `accept`) on; prints any other and exits with its code. */
  const check = <R extends ApiResponse>(response: R, accept: readonly number[] = []): R => {
    if ((response.status >= 200 && response.status < 300) || accept.includes(response.status)) return response;
    if (globals().json) io.stdout(JSON.stringify(response.body, null, 2));
    const apiError = response.body?.error;
    const message = apiError?.message ?? response.body?.message ?? JSON.stringify(response.body);
    const code = apiError?.code ?? `HTTP ${response.status}`;
    if (response.status === 403) {
      io.stderr(`error: ${code}: ${message}\nThe request was refused: it was not signed with valid credentials, or they are not allowed execute-api:Invoke on this API.`);
      throw new ExitWith(EXIT.forbidden);
    }
    io.stderr(`error: ${code} (${response.status}): ${message}`);
    for (const detail of apiError?.details ?? []) io.stderr(`  - ${detail.path ? `${detail.path}: ` : ''}${detail.message}`);
    if (response.status === 429 || response.status === 503) {
      const seconds = response.retryAfterSeconds;
      io.stderr(seconds === undefined ? 'the API asks to retry later' : `the API asks to retry in ${seconds} second${seconds === 1 ? '' : 's'} (Retry-After)`);
    }
    throw new ExitWith(
      response.status === 400 || response.status === 413 ? EXIT.usage
        : response.status === 404 ? EXIT.notFound
          : response.status === 409 ? EXIT.conflict
            : response.status === 429 || response.status >= 500 ? EXIT.unavailable
              : EXIT.unexpected,
    );
  };

  /** Prints a write's answer: what changed, then the new state. */
  const printChange = (response: ApiResponse) => {
    if (globals().json) return io.stdout(JSON.stringify(response.body, null, 2));
    const { changed, message, state } = response.body;
    for (const c of changed) io.stdout(`changed ${c.parameter} (version ${c.version})`);
    if (message) io.stdout(message);
    io.stdout('');
    io.stdout(formatState(state));
  };

  program
    .command('status')
    .description('show flag, traffic, mode, rollback latch, breaker epoch and health')
    .action(async () => {
      const response = await send('GET', 'admin/status');
      io.stdout(globals().json ? JSON.stringify(response.body, null, 2) : formatState(response.body.state));
    });

  program
    .command('health')
    .description('show every component\'s health, or one component\'s')
    .argument('[component]', 'direct-bedrock, mcp-router, intelligent-router, hybrid-monitor or bedrock-support')
    .action(async (component?: string) => {
      // A 503 with a health report is an answer (the system is unhealthy), not a failed call.
      const path = component ? `health/component/${encodeURIComponent(component)}` : 'health/detailed';
      let response = await send('GET', path, undefined, undefined, [503]);
      if (!response.body?.status) response = await send('GET', path);
      if (globals().json) return io.stdout(JSON.stringify(response.body, null, 2));
      const components = component ? { [component]: response.body } : response.body.components;
      io.stdout(`overall: ${response.body.status}`);
      io.stdout(formatHealth(components));
      if (response.body.status === 'unhealthy') throw new ExitWith(EXIT.unavailable);
    });

  const traffic = program.command('traffic').description('the hybrid cohort size');
  traffic
    .command('set')
    .description(`set the percentage of callers in the hybrid cohort; raising it more than one runbook step (${DEFAULT_STEPS.join(' → ')}) asks first`)
    .argument('<percentage>', 'an integer from 0 to 100', percentage)
    .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
    .option('--yes', 'skip the question when the new value skips a runbook step')
    .action(async (value: number, options: { reason: string; yes?: boolean }) => {
      if (!options.yes) {
        const current = (await send('GET', 'admin/status')).body.state.trafficPercentage as number;
        const next = nextRunbookStep(current);
        if (next !== undefined && value > next) {
          const skipped = DEFAULT_STEPS.filter((step) => step >= next && step < value);
          const question = `raise hybrid traffic from ${current}% to ${value}%, past the runbook's ${skipped.map((s) => `${s}%`).join(', ')} step${skipped.length > 1 ? 's' : ''}? ("ramp start" ramps on evidence)`;
          if (!(await confirm(question))) {
            io.stderr(`error: not confirmed: ${question.replace(/\?.*$/, '')}; answer yes, or pass --yes`);
            throw new ExitWith(EXIT.usage);
          }
        }
      }
      printChange(await send('PUT', 'admin/traffic', { percentage: value, reason: options.reason }));
    });

  program
    .command('flag')
    .description('turn the hybrid-routing feature flag on or off')
    .addArgument(new Command().createArgument('<state>', 'enable or disable').choices(['enable', 'disable']))
    .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
    .action(async (state: string, options: { reason: string }) =>
      printChange(await send('PUT', 'admin/feature-flags/hybrid-routing', { enabled: state === 'enable', reason: options.reason })),
    );

  const mode = program.command('mode').description('the routing mode');
  mode
    .command('set')
    .description('set the routing mode')
    .addArgument(new Command().createArgument('<mode>', 'the mode').choices([...ROUTING_MODES]))
    .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
    .action(async (value: string, options: { reason: string }) => printChange(await send('PUT', 'admin/routing/mode', { mode: value, reason: options.reason })));

  const policy = program.command('policy').description('the routing policy: strategies, latency budgets, breakers, retries');
  policy
    .command('get')
    .description('print the policy in force, with defaults filled in')
    .action(async () => io.stdout(JSON.stringify((await send('GET', 'admin/status')).body.state.policy, null, 2)));
  policy
    .command('set')
    .description('merge the JSON in <file> over the policy in force (what it leaves out stays as it is), or --replace it whole')
    .argument('<file>', 'a JSON file: the whole policy, or only the parts to change')
    .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
    .option('--replace', 'store <file> as the whole policy: what it leaves out takes the default')
    .action(async (file: string, options: { reason: string; replace?: boolean }) => {
      let value: unknown;
      try {
        value = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        io.stderr(`error: cannot read a JSON policy from ${file}: ${error instanceof Error ? error.message : String(error)}`);
        throw new ExitWith(EXIT.usage);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        io.stderr(`error: ${file} must hold a JSON object (the policy, or the parts of it to change)`);
        throw new ExitWith(EXIT.usage);
      }
      const policy = options.replace ? value : mergePolicy((await send('GET', 'admin/status')).body.state.policy, value as Record<string, unknown>);
      printChange(await send('PUT', 'admin/routing/policy', { policy, reason: options.reason }));
    });

  program
    .command('rollback')
    .description('roll back now (level 1: flag off; level 2: flag off and traffic 0; level 3: level 2 and the router\'s previous code), or "rollback clear" to clear the latch')
    .argument('[action]', '"clear" to clear the latch; it restores nothing')
    .addOption(new Option('--level <level>', 'rollback level').choices(['1', '2', '3']).default('2'))
    .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
    .option('--force', 'with "clear": clear even while a rollback alarm is in ALARM (recorded in the audit trail)')
    .action(async (action: string | undefined, options: { level: string; reason: string; force?: boolean }) => {
      if (action !== undefined && action !== 'clear') {
        io.stderr(`error: unknown rollback action "${action}"; the only one is "clear"`);
        throw new ExitWith(EXIT.usage);
      }
      if (options.force && action !== 'clear') {
        io.stderr('error: --force only applies to "rollback clear"');
        throw new ExitWith(EXIT.usage);
      }
      if (action === 'clear') return printChange(await send('DELETE', 'admin/rollback', { reason: options.reason, ...(options.force ? { force: true } : {}) }));
      printChange(await send('POST', 'admin/rollback', { level: Number(options.level), reason: options.reason }));
    });

  program
    .command('smoke')
    .description('send /health/detailed and a short request of each operation class; pass or fail against the runbook\'s latency targets')
    .action(async () => {
      // Every answer but a 403 is a result to judge; a 403 means nothing can be checked.
      const judged = Array.from({ length: 500 }, (_, i) => i + 100).filter((status) => status !== 403);
      const timed = async (method: string, path: string, body?: unknown) => {
        const started = performance.now();
        const response = await send(method, path, body, undefined, judged);
        return { response, latencyMs: Math.round(performance.now() - started) };
      };
      await client();
      const checks: SmokeCheck[] = [];
      const health = await timed('GET', 'health/detailed');
      checks.push(judgeHealthReport(health.response.status, health.response.body, health.latencyMs, { requireHealthy: true }));
      for (const { name, operation } of OPERATION_CLASSES) {
        const { response, latencyMs } = await timed('POST', 'v1/invoke', smokeRequest(operation));
        checks.push(judgeInvokeAnswer(`${name} (${operation})`, response.status, response.body, latencyMs, latencyTargetMs(operation)));
      }
      const passed = checks.every((c) => c.pass);
      io.stdout(globals().json ? JSON.stringify({ passed, checks }, null, 2) : formatSmoke(checks));
      if (!passed) throw new ExitWith(EXIT.smokeFailed);
    });

  const breakers = program.command('breakers').description('the routers\' circuit breakers');
  breakers
    .command('reset')
    .description('close every router\'s breakers at its next configuration read')
    .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
    .action(async (options: { reason: string }) => printChange(await send('POST', 'admin/circuit-breakers/reset', { reason: options.reason })));

  program
    .command('audit')
    .description('who changed what, when and why, newest first')
    .option('--limit <n>', 'how many changes', positiveInt, 50)
    .option('--include-health', 'include the health checks\' writes')
    .action(async (options: { limit: number; includeHealth?: boolean }) => {
      const query: Record<string, string> = { limit: String(options.limit), ...(options.includeHealth ? { include: 'health' } : {}) };
      const response = await send('GET', 'admin/audit', undefined, query);
      io.stdout(globals().json ? JSON.stringify(response.body, null, 2) : formatAudit(response.body.entries));
    });

  rampCommand({ io, json: () => globals().json === true, send, exit: (code) => new ExitWith(code) }, program);

  program.addCommand(
    invokeCommand({
      io,
      json: () => globals().json === true,
      send,
      stream: (path, body, onText) => call((api) => api.stream('POST', path, body, onText)).then((response) => check(response)),
      exit: (code) => new ExitWith(code),
    }).copyInheritedSettings(program),
  );

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ExitWith) return error.code;
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.unexpected;
  }
}
