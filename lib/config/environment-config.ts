import * as z from 'zod/v4';

/** The cdk.json context key that holds one entry per environment. */
export const ENVIRONMENTS_CONTEXT_KEY = 'environments';
/** The context key that selects one environment: `-c env=prod`. */
export const SELECTED_ENVIRONMENT_CONTEXT_KEY = 'env';

const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
/** Cross-region inference profile IDs carry a geography prefix, e.g. `eu.anthropic.claude-…`. */
export const INFERENCE_PROFILE_PREFIX = /^(us|eu|apac|jp|au|ca|us-gov|global)\./;
/** A standard (not FIFO) SNS topic's ARN. */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;
/** The environment that must name a notification subscriber (DESIGN §8). */
const ENVIRONMENTS_NEEDING_A_SUBSCRIBER: readonly string[] = ['prod'];

const int = (min: number, max: number, what: string) =>
  z.number({ error: `must be ${what}: an integer from ${min} to ${max}` }).int({ error: `must be an integer from ${min} to ${max}` }).min(min, { error: `must be at least ${min}` }).max(max, { error: `must be at most ${max}` });

const percent = (what: string) =>
  z.number({ error: `must be ${what}: a number from 0 to 100` }).min(0, { error: `must be ${what}: a number from 0 to 100` }).max(100, { error: `must be ${what}: a number from 0 to 100` });

/**
 * How CodeDeploy shifts the router's `live` alias to a new version: all at once, a canary (a
 * share first, the rest after the interval) or linear (the same share every interval).
 */
const CodeDeploySchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('all-at-once') }).strict(),
    ...(['canary', 'linear'] as const).map((type) =>
      z
        .object({
          type: z.literal(type),
          percentage: int(1, 99, `the share of traffic each ${type} step shifts, in percent`),
          intervalMinutes: int(1, 2880, `the minutes between ${type} steps`),
        })
        .strict(),
    ),
  ],
  { error: 'must be { "type": "all-at-once" }, or { "type": "canary" | "linear", "percentage": 1-99, "intervalMinutes": 1-2880 }' },
);
export type CodeDeploySpec = z.infer<typeof CodeDeploySchema>;

export const EnvironmentConfigSchema = z
  .object({
    region: z.string().regex(REGION, { error: 'must be an AWS region code such as "eu-central-1"' }).default('eu-central-1'),
    account: z.string().regex(/^\d{12}$/, { error: 'must be a 12-digit AWS account ID, or left out for an environment-agnostic stack' }).optional(),
    bedrock: z
      .object({
        modelId: z.string({ error: 'must name the Bedrock model or inference-profile ID the router calls' }).min(1),
        probeModelId: z.string().min(1).optional(),
        inferenceProfileRegions: z
          .array(z.string().regex(REGION, { error: 'must be AWS region codes' }))
          .min(1)
          .optional(),
        /** USD per 1 000 tokens of the router's model, for the cost dashboard's spend estimate. */
        pricePer1kTokens: z
          .object({
            input: z.number({ error: 'must be the USD price of 1 000 input tokens' }).min(0),
            output: z.number({ error: 'must be the USD price of 1 000 output tokens' }).min(0),
          })
          .strict()
          .default({ input: 0.00025, output: 0.00125 }),
      })
      .strict()
      .refine((b) => !INFERENCE_PROFILE_PREFIX.test(b.modelId) || b.inferenceProfileRegions !== undefined, {
        error: 'an inference-profile modelId needs inferenceProfileRegions: the regions the profile routes to, so IAM can name their foundation models',
      }),
    mcp: z
      .object({
        serverUrl: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL of the MCP server\'s Streamable HTTP endpoint' }),
        toolName: z.string({ error: 'must name the MCP tool the router calls' }).min(1),
      })
      .strict(),
    healthCheck: z
      .object({
        rateMinutes: int(1, 60, 'the minutes between health checks'),
        unhealthyAfter: int(1, 10, 'the consecutive failures that make a component unhealthy'),
      })
      .strict()
      .default({ rateMinutes: 1, unhealthyAfter: 3 }),
    alarms: z
      .object({
        errorRatePercent: percent('the hybrid error rate that triggers a level-2 rollback'),
        minRequests: int(1, 100_000, 'the fewest hybrid requests in a 10-second window for the error-rate and latency alarms to judge it'),
        latencyP95Ms: int(100, 60_000, 'the p95 latency in ms that triggers a rollback'),
        routingEfficiencyPercent: percent('the routing efficiency below which operators are notified'),
        lowTrafficMinRequests: int(1, 100_000, 'the fewest requests in a 1-minute window for the low-traffic and control error-rate alarms to judge it').default(2),
        lowTrafficDatapoints: int(1, 5, 'how many of the last five 1-minute windows must breach for the low-traffic and control error-rate alarms').default(3),
      })
      .strict()
      .default({ errorRatePercent: 5, minRequests: 10, latencyP95Ms: 15_000, routingEfficiencyPercent: 70, lowTrafficMinRequests: 2, lowTrafficDatapoints: 3 }),
    notifications: z
      .object({
        emails: z.array(z.email({ error: 'must be e-mail addresses' })).default([]),
        forwardTo: z
          .array(z.string().regex(SNS_TOPIC_ARN, { error: 'must be ARNs of existing standard SNS topics, e.g. "arn:aws:sns:eu-central-1:123456789012:oncall"' }))
          .default([]),
      })
      .strict()
      .default({ emails: [], forwardTo: [] }),
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        error: `must be one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    codeDeploy: CodeDeploySchema.default({ type: 'canary', percentage: 10, intervalMinutes: 5 }),
    provisionedConcurrency: int(0, 10_000, 'the execution environments kept warm on the router\'s live alias, 0 for none').default(0),
    throttling: z
      .object({
        rateLimit: int(1, 10_000, 'the steady-state requests per second of each API method'),
        burstLimit: int(1, 5_000, 'the burst size of each API method'),
        healthRateLimit: int(1, 10_000, 'the steady-state requests per second of the open GET /health').default(10),
        healthBurstLimit: int(1, 5_000, 'the burst size of the open GET /health').default(20),
      })
      .strict()
      .refine((t) => t.healthRateLimit <= t.rateLimit && t.healthBurstLimit <= t.burstLimit, {
        error: 'healthRateLimit and healthBurstLimit must not exceed rateLimit and burstLimit: the anonymous GET /health must not get more than the signed routes',
      })
      .default({ rateLimit: 50, burstLimit: 100, healthRateLimit: 10, healthBurstLimit: 20 }),
    configCacheTtlSeconds: int(1, 300, 'how long the router caches the configuration store').default(5),
    waf: z.boolean({ error: 'must be true or false' }).default(false),
    streaming: z
      .object({
        budgetSeconds: int(1, 900, 'the longest a /v1/stream answer may take, first byte to last (API Gateway streams for at most 15 minutes)'),
      })
      .strict()
      .default({ budgetSeconds: 60 }),
    jobs: z
      .object({
        budgetMinutes: int(1, 14, 'the longest one try of a job may take (a Lambda function runs at most 15 minutes)'),
      })
      .strict()
      .default({ budgetMinutes: 10 }),
    ramp: z
      .object({
        holdDownMinutes: int(1, 1440, 'the minutes after the last rollback or latch clear before an automated ramp may start'),
      })
      .strict()
      .default({ holdDownMinutes: 30 }),
  })
  .strict();

export type EnvironmentConfig = z.infer<typeof EnvironmentConfigSchema>;

export interface SelectedEnvironment {
  readonly name: string;
  readonly config: EnvironmentConfig;
}

/** An environment's name becomes its stack name, SSM path and alarm prefix: lowercase letters, digits and dashes. */
const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * The names of the environments cdk.json defines, in its order: the one list synth, deploy and the
 * CLI's `--env` use. An entry added there is an environment; nothing else names them.
 */
export function environmentNamesOf(environments: unknown): string[] {
  if (typeof environments !== 'object' || environments === null || Array.isArray(environments) || Object.keys(environments).length === 0) {
    throw new EnvironmentConfigError(
      `context "${ENVIRONMENTS_CONTEXT_KEY}" is missing from cdk.json or empty. Fix: add an object with one entry per environment, e.g. { "dev": { ... }, "prod": { ... } }.`,
    );
  }
  const names = Object.keys(environments);
  const bad = names.filter((name) => !ENVIRONMENT_NAME.test(name));
  if (bad.length > 0) {
    throw new EnvironmentConfigError(
      `context "${ENVIRONMENTS_CONTEXT_KEY}" has ${bad.map((n) => `"${n}"`).join(', ')}: an environment's name must be lowercase letters, digits and dashes, starting with a letter, at most 32 characters. Fix: rename the entry in cdk.json.`,
    );
  }
  return names;
}

/** Raised for a bad environment selection or config: names the key and the fix. */
export class EnvironmentConfigError extends Error {}

/**
 * Reads and validates the environments in cdk.json context. With `env` set, returns that one;
 * otherwise all of them. Every problem stops synth with a message naming the key and the fix.
 */
export function selectEnvironments(tryGetContext: (key: string) => unknown): SelectedEnvironment[] {
  const all = tryGetContext(ENVIRONMENTS_CONTEXT_KEY);
  const known = environmentNamesOf(all);
  const selected = tryGetContext(SELECTED_ENVIRONMENT_CONTEXT_KEY);
  if (selected !== undefined && !known.includes(selected as string)) {
    throw new EnvironmentConfigError(
      `context "${SELECTED_ENVIRONMENT_CONTEXT_KEY}" is ${JSON.stringify(selected)}; it must be one of ${known.join(', ')}. ` +
        `Fix: run with -c ${SELECTED_ENVIRONMENT_CONTEXT_KEY}=${known[0]} (or another entry of "${ENVIRONMENTS_CONTEXT_KEY}" in cdk.json), add a "${String(selected)}" entry there, or leave it out to synthesize them all.`,
    );
  }
  const names = selected === undefined ? known : [selected as string];
  return names.map((name) => ({ name, config: parseEnvironmentConfig(name, (all as Record<string, unknown>)[name]) }));
}

export function parseEnvironmentConfig(name: string, raw: unknown): EnvironmentConfig {
  const key = `${ENVIRONMENTS_CONTEXT_KEY}.${name}`;
  if (raw === undefined) {
    throw new EnvironmentConfigError(`context "${key}" is missing. Fix: add a "${name}" entry under "${ENVIRONMENTS_CONTEXT_KEY}" in cdk.json.`);
  }
  if (typeof raw === 'object' && raw !== null && 'notificationEmail' in raw) {
    throw new EnvironmentConfigError(
      `invalid environment config in cdk.json:\n- ${key}.notificationEmail: replaced by a list. Fix: move the address to "${key}.notifications.emails" in cdk.json.`,
    );
  }
  const result = EnvironmentConfigSchema.safeParse(raw);
  if (result.success) {
    const { emails, forwardTo } = result.data.notifications;
    if (ENVIRONMENTS_NEEDING_A_SUBSCRIBER.includes(name) && emails.length === 0 && forwardTo.length === 0) {
      throw new EnvironmentConfigError(
        `invalid environment config in cdk.json:\n- ${key}.notifications: ${name} has no notification subscriber, so every alarm and rollback notice would be dropped. ` +
          `Fix: add an address to "${key}.notifications.emails" or an SNS topic ARN to "${key}.notifications.forwardTo" in cdk.json.`,
      );
    }
    return result.data;
  }
  const lines = result.error.issues.map((issue) => {
    const path = [key, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return `- ${path}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}. Fix: remove ${issue.keys.length > 1 ? 'them' : 'it'} or correct the spelling.`;
    }
    return `- ${path}: ${issue.message}. Fix: set "${path}" accordingly in cdk.json.`;
  });
  throw new EnvironmentConfigError(`invalid environment config in cdk.json:\n${lines.join('\n')}`);
}
