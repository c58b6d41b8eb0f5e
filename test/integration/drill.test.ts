import alarmEventFixture from '../fixtures/alarm-event-error-rate.json';
import type { RollbackOutcome } from '../../lambda/rollback/rollback';
import { alarmNameOf } from '../../lambda/shared/alarms';
import { synthesize, resourcesOf, templateOf } from '../infrastructure/synth';
import { evaluateMetricMath } from '../support/metric-math';
import {
  HYBRID_FOR_EVERYONE,
  StdoutCapture,
  invokeEvent,
  lambdaContext,
  lambdaEnvironment,
  loadHandler,
  rollbackEnvironment,
  seedConfig,
  sleep,
  startWorld,
  type World,
} from './support/world';

interface MetricStatQuery {
  Id: string;
  Expression?: string;
  MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] }; Stat: string; Period: number };
}

let world: World;
const stdout = new StdoutCapture();
let alarm: { name: string; metrics: MetricStatQuery[]; threshold: number; datapointsToAlarm: number };

beforeAll(async () => {
  world = await startWorld();
  const { stacks } = synthesize({ env: 'dev' });
  const [, resource] = Object.entries(resourcesOf(templateOf(stacks[0]!), 'AWS::CloudWatch::Alarm')).find(
    ([, r]) => r.Properties.AlarmName === alarmNameOf('dev', 'hybridErrorRate'),
  )!;
  alarm = {
    name: resource.Properties.AlarmName,
    metrics: resource.Properties.Metrics,
    threshold: resource.Properties.Threshold,
    datapointsToAlarm: resource.Properties.DatapointsToAlarm,
  };
}, 120_000);
afterAll(async () => world.stop());

/**
 * One alarm datapoint from the EMF the router wrote: each metric the alarm reads is summed over
 * the EMF documents whose namespace, name and dimensions match it, then the alarm's own
 * expression is evaluated over those sums.
 */
function datapoint(emf: ReturnType<StdoutCapture['emf']>): number {
  const values: Record<string, number> = {};
  for (const query of alarm.metrics.filter((q) => q.MetricStat)) {
    const { Metric, Stat } = query.MetricStat!;
    expect(Stat).toBe('Sum');
    const canonical = (dimensions: Record<string, string>) => JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b)));
    const wanted = canonical(Object.fromEntries(Metric.Dimensions.map((d) => [d.Name, d.Value])));
    values[query.Id] = emf
      .filter((doc) => (doc.values._aws as any).CloudWatchMetrics[0].Namespace === Metric.Namespace && doc.metrics.includes(Metric.MetricName))
      .filter((doc) => canonical(doc.dimensions) === wanted)
      .reduce((sum, doc) => sum + Number(doc.values[Metric.MetricName]), 0);
  }
  const expression = alarm.metrics.find((q) => q.Expression)!.Expression!;
  return evaluateMetricMath(expression, values);
}

describe('rollback drill', () => {
  it('failing providers trip the error-rate alarm, the rollback latches, and the router serves the control path', async () => {
    // Breakers stay closed during the drill, so recovery shows at once; the drill is about the rollback.
    seedConfig(world.ssm, { ...HYBRID_FOR_EVERYONE, 'routing/policy': JSON.stringify({ circuitBreaker: { failureThreshold: 100, coolDownMs: 30_000 } }) });
    const router = loadHandler(require.resolve('../../lambda/router/handler'), lambdaEnvironment(world));
    const rollback = loadHandler(require.resolve('../../lambda/rollback/handler'), rollbackEnvironment(world)) as unknown as (e: unknown, c: unknown) => Promise<RollbackOutcome>;
    const send = async (count: number, offset: number) => {
      const results = [];
      for (let i = 0; i < count; i += 1) {
        const result = await router(invokeEvent({ operation: 'emergency', messages: [{ role: 'user', content: 'x' }], routingKey: `caller-${offset + i}` }), lambdaContext());
        results.push({ status: result.statusCode, routing: JSON.parse(result.body).routing });
      }
      return results;
    };

    // Both paths fail: every hybrid request answers 503.
    world.bedrock.defaultBehavior = { kind: 'error', type: 'ServiceUnavailableException', status: 503 };
    world.mcp.behavior = 'http-500';
    const breaching: number[] = [];
    for (let window = 0; window < alarm.datapointsToAlarm; window += 1) {
      stdout.clear();
      stdout.start();
      const results = await send(12, window * 100);
      stdout.stop();
      expect(results.every((r) => r.status === 503)).toBe(true);
      breaching.push(datapoint(stdout.emf()));
    }
    expect(breaching.every((value) => value > alarm.threshold)).toBe(true);

    // The alarm's ALARM transition reaches the rollback function.
    const event = structuredClone(alarmEventFixture);
    event.alarmData.alarmName = alarm.name;
    stdout.start();
    const outcome = await rollback(event, lambdaContext());
    stdout.stop();
    expect(outcome).toMatchObject({ action: 'rolled-back', level: 2 });

    // The paths recover; on its next config read the router sends every new request to the control path.
    world.bedrock.reset();
    world.mcp.behavior = 'answer';
    await sleep(1_050);
    stdout.clear();
    stdout.start();
    const after = await send(20, 1_000);
    stdout.stop();
    expect(after.every((r) => r.status === 200 && r.routing.cohort === 'control' && r.routing.provider === 'mcp')).toBe(true);
    expect(world.bedrock.calls).toHaveLength(0);
    expect(datapoint(stdout.emf())).toBe(0);
  });
});
