import { Command, InvalidArgumentError, Option } from 'commander';
import { StreamEventParser, type StreamEvent } from '../lambda/shared/stream-events';
import { OPERATIONS } from '../lambda/shared/vocabulary';
import type { ApiResponse } from './api-client';
import type { CliIo } from './main';

/** What the invoke command needs from the CLI around it. */
export interface InvokeContext {
  readonly io: CliIo;
  readonly json: () => boolean;
  /** A request whose non-2xx answer has already been printed and turned into an exit. */
  readonly send: (method: string, path: string, body?: unknown) => Promise<ApiResponse>;
  readonly stream: (path: string, body: unknown, onText: (text: string) => void) => Promise<ApiResponse & { readonly streamed: boolean }>;
  /** The error that ends the CLI with `code`. */
  readonly exit: (code: number) => Error;
}

/** The CLI's exit codes, by the API error code of a stream's `error` event or a failed job. */
const EXIT_BY_ERROR_CODE: Readonly<Record<string, number>> = {
  ValidationError: 2,
  PayloadTooLarge: 2,
  NotFound: 4,
  Conflict: 5,
};
const UNAVAILABLE_EXIT = 6;

const positiveInt = (value: string): number => {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
};
const temperature = (value: string): number => {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return parsed;
};

interface InvokeOptions {
  operation: string;
  message: string;
  system?: string;
  maxTokens?: number;
  temperature?: number;
  routingKey?: string;
  stream?: boolean;
  job?: boolean;
  pollSeconds: number;
}

/**
 * `hybrid-routing invoke`: one AI request, three ways (DESIGN §12). Plain, it waits for the whole
 * answer (`/v1/invoke`, under API Gateway's 29 s); `--stream` prints tokens as they arrive
 * (`/v1/stream`); `--job` submits it (`/v1/jobs`) and waits, showing progress, until it ends.
 * The answer's text goes to stdout and everything else to stderr; `--json` prints what the API sent.
 */
export function invokeCommand(ctx: InvokeContext): Command {
  const { io } = ctx;
  const write = io.write ?? ((text: string) => void process.stdout.write(text));
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  const fail = (error: { code: string; message: string }): Error => {
    io.stderr(`error: ${error.code}: ${error.message}`);
    return ctx.exit(EXIT_BY_ERROR_CODE[error.code] ?? UNAVAILABLE_EXIT);
  };

  const streamed = async (body: unknown): Promise<void> => {
    const parser = new StreamEventParser();
    let last: StreamEvent | undefined;
    let wroteText = false;
    const response = await ctx.stream('v1/stream', body, (text) => {
      if (ctx.json()) write(text);
      for (const event of parser.push(text)) {
        last = event;
        if (ctx.json()) continue;
        if (event.event === 'delta') {
          write(event.data.text);
          wroteText = true;
        } else if (event.event === 'routing') {
          io.stderr(`${event.data.fallback ? 'falling back to' : 'answering from'} ${event.data.provider} (${event.data.cohort} cohort)`);
        } else if (event.event === 'done') {
          if (wroteText) write('\n');
          io.stderr(`done: ${event.data.stopReason}, ${event.data.latencyMs} ms`);
        }
      }
    });
    if (!response.streamed) return void io.stdout(JSON.stringify(response.body, null, 2));
    if (last?.event === 'error') {
      if (wroteText && !ctx.json()) write('\n');
      throw fail(last.data);
    }
    if (last?.event !== 'done') throw fail({ code: 'StreamCut', message: 'the stream ended before its last event; the answer may be incomplete' });
  };

  const job = async (body: unknown, pollSeconds: number): Promise<void> => {
    const submitted = (await ctx.send('POST', 'v1/jobs', body)).body as { jobId: string };
    const path = `v1/jobs/${encodeURIComponent(submitted.jobId)}`;
    const startedAt = Date.now();
    let shown = '';
    for (;;) {
      const view = (await ctx.send('GET', path)).body;
      const seconds = Math.round((Date.now() - startedAt) / 1000);
      const progress = `job ${view.jobId}: ${view.status}${view.attempts > 0 ? ` (try ${view.attempts})` : ''}`;
      if (progress !== shown) io.stderr(`${progress}, ${seconds} s`);
      shown = progress;
      if (view.status === 'succeeded' || view.status === 'failed') {
        if (ctx.json()) io.stdout(JSON.stringify(view, null, 2));
        else if (view.status === 'succeeded') io.stdout(view.result.output.text);
        if (view.status === 'failed') throw fail(view.error);
        return;
      }
      await sleep(pollSeconds * 1000);
    }
  };

  return new Command('invoke')
    .description('send one AI request: wait for the answer, --stream it as it is written, or run it as a --job')
    .addOption(new Option('--operation <type>', 'the operation type').choices([...OPERATIONS]).makeOptionMandatory())
    .requiredOption('--message <text>', 'the user message')
    .option('--system <text>', 'a system prompt')
    .option('--max-tokens <n>', 'the most tokens to generate (1-8192)', positiveInt)
    .option('--temperature <t>', 'sampling temperature, 0 to 1', temperature)
    .option('--routing-key <key>', 'keeps a caller in one cohort (default: your IAM identity)')
    .addOption(new Option('--stream', 'print the answer as it is written (POST /v1/stream)').conflicts('job'))
    .option('--job', 'submit as an asynchronous job and wait for it (POST /v1/jobs), for answers longer than 29 s')
    .option('--poll-seconds <n>', 'with --job: seconds between status checks', positiveInt, 2)
    .action(async (options: InvokeOptions) => {
      const body = {
        operation: options.operation,
        messages: [{ role: 'user', content: options.message }],
        ...(options.system === undefined ? {} : { system: options.system }),
        ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
        ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
        ...(options.routingKey === undefined ? {} : { routingKey: options.routingKey }),
      };
      if (options.stream) return streamed(body);
      if (options.job) return job(body, options.pollSeconds);
      const { body: answer } = await ctx.send('POST', 'v1/invoke', body);
      if (ctx.json()) return io.stdout(JSON.stringify(answer, null, 2));
      io.stdout(answer.output.text);
      io.stderr(`answered by ${answer.routing.provider}${answer.routing.fallback ? ' (fallback)' : ''} in ${answer.latencyMs} ms`);
    });
}
