import { OPERATION_CLASSES, judgeHealthReport, judgeInvokeAnswer, latencyTargetMs, smokeRequest } from '../../lambda/core/smoke-test';
import { InvokeRequestSchema } from '../../lambda/shared/invoke-request';
import { COMPONENTS } from '../../lambda/shared/vocabulary';

const report = (status: string, config: { origin: string; problems: string[] } = { origin: 'store', problems: [] }, down: string[] = []) => ({
  status,
  components: Object.fromEntries(COMPONENTS.map((c) => [c, { status: down.includes(c) ? 'unhealthy' : 'healthy' }])),
  routing: { config },
});
const answer = (provider: string, fallback = false) => ({ output: { text: 'OK', stopReason: 'end_turn' }, routing: { provider, fallback } });

describe('smoke test', () => {
  it('uses the runbook\'s latency targets per class: 5 s emergency, 10 s critical, 30 s standard', () => {
    expect(OPERATION_CLASSES.map((c) => [c.name, latencyTargetMs(c.operation)])).toEqual([
      ['emergency', 5_000],
      ['critical', 10_000],
      ['standard', 30_000],
    ]);
  });

  it('sends a request the API accepts', () => {
    for (const { operation } of OPERATION_CLASSES) expect(InvokeRequestSchema.safeParse(smokeRequest(operation)).success).toBe(true);
  });

  describe('judgeHealthReport', () => {
    const hook = { requireHealthy: false };
    const environment = { requireHealthy: true };

    it('passes a complete report from a router that read and parsed its store', () => {
      expect(judgeHealthReport(200, report('degraded'), 12, environment)).toEqual({ check: 'health', pass: true, latencyMs: 12, detail: 'overall degraded' });
    });

    it('fails a router on its control-path default or that cannot parse the store', () => {
      expect(judgeHealthReport(503, report('unhealthy', { origin: 'control-default', problems: [] }), 1, hook).detail).toBe('could not read the configuration store (configuration origin: control-default)');
      expect(judgeHealthReport(200, report('healthy', { origin: 'store', problems: ['rollback/state does not parse'] }), 1, hook).detail).toBe('cannot parse the configuration store: rollback/state does not parse');
    });

    it('fails an answer that is not a health report', () => {
      expect(judgeHealthReport(500, { error: { code: 'InternalError', message: 'internal error' } }, 1, hook)).toMatchObject({ pass: false, detail: 'answered 500 without a complete health report: InternalError: internal error' });
      expect(judgeHealthReport(200, { status: 'healthy' }, 1, hook).pass).toBe(false);
    });

    it('an unhealthy environment fails smoke but not the hook, which judges the new code only', () => {
      const down = report('unhealthy', undefined, ['direct-bedrock', 'mcp-router', 'bedrock-support']);
      expect(judgeHealthReport(503, down, 1, hook).pass).toBe(true);
      expect(judgeHealthReport(503, down, 1, environment)).toMatchObject({ pass: false, detail: 'the environment is unhealthy (direct-bedrock, mcp-router, bedrock-support)' });
    });
  });

  describe('judgeInvokeAnswer', () => {
    it('passes a 200 from either path within the target, naming the path', () => {
      expect(judgeInvokeAnswer('emergency', 200, answer('mcp', true), 4_999, 5_000)).toEqual({
        check: 'emergency', pass: true, latencyMs: 4_999, targetMs: 5_000, provider: 'mcp', fallback: true, detail: 'answered by mcp after a fallback',
      });
    });

    it('fails an answer slower than the target', () => {
      expect(judgeInvokeAnswer('emergency', 200, answer('bedrock'), 5_001, 5_000)).toMatchObject({ pass: false, provider: 'bedrock', detail: 'took 5001 ms; the target is 5000 ms' });
    });

    it('fails an error answer with its code', () => {
      expect(judgeInvokeAnswer('critical', 503, { error: { code: 'Unavailable', message: 'both paths are down' } }, 20, 10_000)).toMatchObject({ pass: false, detail: 'answered 503: Unavailable: both paths are down' });
      expect(judgeInvokeAnswer('critical', 200, { text: 'no routing' }, 20)).toMatchObject({ pass: false, detail: 'answered 200 without an output and its routing' });
    });
  });
});
