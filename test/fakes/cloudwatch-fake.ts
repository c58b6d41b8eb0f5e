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

/** One raw value of a metric, as a function's EMF line puts it into CloudWatch. */
export interface Datapoint {
  /** @default 'HybridRouting' */
  readonly namespace?: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly timestamp: Date;
  readonly value: number;
}

/** A query error the way CloudWatch answers it, thrown inside an operation handler. */
class CloudWatchError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * CloudWatch speaking what `@aws-sdk/client-cloudwatch` 3.1164 sends: AWS JSON 1.0 with
 * `x-amz-target: GraniteServiceVersion20100801.<Operation>`, query-compatible errors
 * (`x-amzn-query-error`). Serves `DescribeAlarms` from alarm states a test sets, and
 * `GetMetricData` (`MetricStat` queries) from datapoints a test records, aggregated per period as
 * CloudWatch does: Sum, Minimum, Maximum, SampleCount, Average, percentiles `pNN` and percentile
 * ranks `PR(a:b)`. Timestamps travel as epoch seconds both ways. Another operation is added with
 * `handle(name, handler)`.
 */
export class CloudWatchFake {
  private readonly server = http.createServer((req, res) => void this.serve(req, res));
  private readonly handlers = new Map<string, OperationHandler>();
  private readonly alarms = new Map<string, { state: AlarmStateValue; reason: string; updatedAt: Date }>();
  private readonly datapoints: Datapoint[] = [];
  readonly calls: CloudWatchCall[] = [];
  /** When set, every matching call fails with it. */
  fault: CloudWatchFault | undefined;
  /** When true, calls are held unanswered until the client gives up. */
  hanging = false;
  url = '';

  constructor() {
    this.handle('DescribeAlarms', (input) => this.describeAlarms(input));
    this.handle('GetMetricData', (input) => this.getMetricData(input));
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

  /** Stores raw values of metrics, as the functions' EMF lines would. */
  record(...points: Datapoint[]): void {
    this.datapoints.push(...points);
  }

  /** Forgets alarms, datapoints, calls, faults and hangs. */
  reset(): void {
    this.alarms.clear();
    this.datapoints.length = 0;
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

  private getMetricData(input: Record<string, unknown>): unknown {
    const queries = input.MetricDataQueries as { Id: string; MetricStat?: any; Expression?: string; ReturnData?: boolean }[] | undefined;
    const start = input.StartTime as number | undefined;
    const end = input.EndTime as number | undefined;
    if (!Array.isArray(queries) || queries.length === 0 || typeof start !== 'number' || typeof end !== 'number') {
      throw new CloudWatchError('ValidationError', 400, 'MetricDataQueries, StartTime and EndTime (epoch seconds) are required');
    }
    if (end <= start) throw new CloudWatchError('ValidationError', 400, 'The parameter StartTime must be less than the parameter EndTime.');
    const descending = input.ScanBy !== 'TimestampAscending';
    const results = queries.map((query) => {
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(query.Id)) throw new CloudWatchError('ValidationError', 400, `Invalid metric data query id ${query.Id}`);
      if (!query.MetricStat || query.Expression !== undefined) throw new CloudWatchError('ValidationError', 400, `query ${query.Id}: this fake serves MetricStat queries only`);
      const { Metric, Period, Stat } = query.MetricStat as { Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: string }[] }; Period: number; Stat: string };
      if (!Number.isInteger(Period) || !(Period % 60 === 0 || [1, 5, 10, 30].includes(Period))) throw new CloudWatchError('ValidationError', 400, `query ${query.Id}: the period must be 1, 5, 10, 30 or a multiple of 60 seconds`);
      const statistic = statisticOf(Stat);
      if (!statistic) throw new CloudWatchError('ValidationError', 400, `query ${query.Id}: unknown statistic ${Stat}`);
      const wanted = Object.fromEntries((Metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
      const buckets = new Map<number, number[]>();
      for (const point of this.datapoints) {
        const t = point.timestamp.getTime() / 1000;
        if ((point.namespace ?? 'HybridRouting') !== Metric.Namespace || point.metricName !== Metric.MetricName || t < start || t >= end || !sameDimensions(point.dimensions, wanted)) continue;
        const bucket = start + Math.floor((t - start) / Period) * Period;
        buckets.set(bucket, [...(buckets.get(bucket) ?? []), point.value]);
      }
      const times = [...buckets.keys()].sort((a, b) => (descending ? b - a : a - b));
      return { Id: query.Id, Label: Metric.MetricName, Timestamps: times, Values: times.map((time) => statistic(buckets.get(time)!)), StatusCode: 'Complete' };
    });
    return { MetricDataResults: results, Messages: [] };
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
    let output: unknown;
    try {
      output = handler(input);
    } catch (error) {
      if (error instanceof CloudWatchError) return this.error(res, error.status, error.code, error.message);
      throw error;
    }
    const payload = JSON.stringify(output);
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

function sameDimensions(have: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(have);
  return keys.length === Object.keys(want).length && keys.every((k) => want[k] === have[k]);
}

/** CloudWatch's statistics over one period's raw values, by their names in `MetricStat.Stat`. */
function statisticOf(stat: string): ((values: number[]) => number) | undefined {
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  switch (stat) {
    case 'Sum':
      return (v) => v.reduce((a, b) => a + b, 0);
    case 'Minimum':
      return (v) => Math.min(...v);
    case 'Maximum':
      return (v) => Math.max(...v);
    case 'SampleCount':
      return (v) => v.length;
    case 'Average':
      return (v) => v.reduce((a, b) => a + b, 0) / v.length;
  }
  const percentile = /^p(\d{1,2}(\.\d+)?)$/.exec(stat);
  if (percentile) {
    const p = Number(percentile[1]);
    return (v) => sorted(v)[Math.max(0, Math.ceil((p / 100) * v.length) - 1)]!;
  }
  // Percentile rank: the percentage of values above the lower bound (exclusive) and at most the upper.
  const rank = /^PR\((\d+(\.\d+)?)?:(\d+(\.\d+)?)?\)$/.exec(stat);
  if (rank) {
    const low = rank[1] === undefined ? -Infinity : Number(rank[1]);
    const high = rank[3] === undefined ? Infinity : Number(rank[3]);
    return (v) => (100 * v.filter((x) => x > low && x <= high).length) / v.length;
  }
  return undefined;
}
