import * as http from 'node:http';
import { closeServer, listenOnLoopback, readBody } from './loopback';

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** One call received: the operation (from `x-amz-target`) and its JSON input. */
export interface CloudWatchCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/** An error the fake answers with instead of serving. */
export interface CloudWatchFault {
  /** e.g. `InternalServiceError`, `Throttling`. */
  readonly code: string;
  readonly status: number;
  /** Only these operations fail; all of them when left out. */
  readonly operations?: readonly string[];
}

type OperationHandler = (input: Record<string, unknown>) => unknown;

/**
 * CloudWatch speaking what `@aws-sdk/client-cloudwatch` 3.1164 sends: AWS JSON 1.0 with
 * `x-amz-target: GraniteServiceVersion20100801.<Operation>`, query-compatible errors
 * (`x-amzn-query-error`). Serves `DescribeAlarms` from alarm states a test sets; another operation
 * is added with `handle(name, handler)`.
 */
export class CloudWatchFake {
  private readonly server = http.createServer((req, res) => void this.serve(req, res));
  private readonly handlers = new Map<string, OperationHandler>();
  private readonly alarms = new Map<string, { state: AlarmStateValue; reason: string; updatedAt: Date }>();
  readonly calls: CloudWatchCall[] = [];
  /** When set, every matching call fails with it. */
  fault: CloudWatchFault | undefined;
  /** When true, calls are held unanswered until the client gives up. */
  hanging = false;
  url = '';

  constructor() {
    this.handle('DescribeAlarms', (input) => this.describeAlarms(input));
  }

  async start(): Promise<this> {
    const port = await listenOnLoopback(this.server);
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  /** Serves `operation` with `handler`'s answer (a JSON-serialisable output shape). */
  handle(operation: string, handler: OperationHandler): void {
    this.handlers.set(operation, handler);
  }

  setAlarm(name: string, state: AlarmStateValue, reason = `set to ${state} by the test`): void {
    this.alarms.set(name, { state, reason, updatedAt: new Date() });
  }

  /** Forgets alarms, calls, faults and hangs. */
  reset(): void {
    this.alarms.clear();
    this.calls.length = 0;
    this.fault = undefined;
    this.hanging = false;
  }

  count(operation: string): number {
    return this.calls.filter((c) => c.operation === operation).length;
  }

  private describeAlarms(input: Record<string, unknown>): unknown {
    const names = input.AlarmNames as string[] | undefined;
    const prefix = input.AlarmNamePrefix as string | undefined;
    const types = (input.AlarmTypes as string[] | undefined) ?? ['MetricAlarm'];
    const matching = [...this.alarms.entries()].filter(
      ([name, alarm]) =>
        (!names || names.includes(name)) && (!prefix || name.startsWith(prefix)) && (!input.StateValue || input.StateValue === alarm.state),
    );
    return {
      MetricAlarms: types.includes('MetricAlarm')
        ? matching.map(([name, alarm]) => ({
            AlarmName: name,
            AlarmArn: `arn:aws:cloudwatch:eu-central-1:123456789012:alarm:${name}`,
            StateValue: alarm.state,
            StateReason: alarm.reason,
            StateUpdatedTimestamp: alarm.updatedAt.getTime() / 1000,
            ActionsEnabled: true,
          }))
        : [],
      CompositeAlarms: [],
    };
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const text = await readBody(req);
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^GraniteServiceVersion20100801\./, '');
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(text || '{}') as Record<string, unknown>;
    } catch {
      return this.error(res, 400, 'SerializationException', 'body is not JSON');
    }
    this.calls.push({ operation, input });
    if (this.hanging) return;
    if (this.fault && (!this.fault.operations || this.fault.operations.includes(operation))) {
      return this.error(res, this.fault.status, this.fault.code, `injected ${this.fault.code}`);
    }
    const handler = this.handlers.get(operation);
    if (!handler) return this.error(res, 400, 'InvalidAction', `operation ${operation} is not faked`);
    const payload = JSON.stringify(handler(input));
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `fake-${this.calls.length}`, 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  }

  private error(res: http.ServerResponse, status: number, code: string, message: string): void {
    const payload = JSON.stringify({ __type: `com.amazonaws.cloudwatch#${code}`, message });
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-query-error': `${code};${status >= 500 ? 'Receiver' : 'Sender'}`,
      'content-length': Buffer.byteLength(payload),
    });
    res.end(payload);
  }
}
