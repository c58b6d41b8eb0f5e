import * as http from 'node:http';
import { closeServer, listenOnLoopback, readBody } from './loopback';

export interface FakeDeployment {
  readonly application: string;
  readonly deploymentGroup: string;
  status: string;
}

export interface HookReport {
  readonly deploymentId: string;
  readonly executionId: string;
  readonly status: string;
}

class CodeDeployError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * CodeDeploy speaking AWS JSON 1.1 on 127.0.0.1 (`ListDeployments` with paging and status
 * filter, `PutLifecycleEventHookExecutionStatus`), for the real client pointed at it through
 * `AWS_ENDPOINT_URL_CODEDEPLOY`. A hook execution takes one status; a second is refused as
 * CodeDeploy refuses it.
 */
export class CodeDeployFake {
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  readonly deployments = new Map<string, FakeDeployment>();
  readonly reports: HookReport[] = [];
  readonly calls: string[] = [];
  /** The next calls of this operation fail with this error type, `times` times. */
  private fault: { operation: string; type: string; status: number; times: number } | undefined;
  /** Deployment ids per ListDeployments page. */
  pageSize = 1;
  url = '';

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}`;
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  fail(operation: string, type: string, times = 1, status = 500): void {
    this.fault = { operation, type, status, times };
  }

  reset(): void {
    this.deployments.clear();
    this.reports.length = 0;
    this.calls.length = 0;
    this.fault = undefined;
    this.pageSize = 1;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^CodeDeploy_20141006\./, '');
    this.calls.push(operation);
    try {
      const input = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
      if (this.fault?.operation === operation && this.fault.times > 0) {
        this.fault.times -= 1;
        throw new CodeDeployError(this.fault.type, `injected ${this.fault.type}`, this.fault.status);
      }
      this.reply(res, 200, this.dispatch(operation, input));
    } catch (error) {
      const { type, message, status } = error instanceof CodeDeployError ? error : new CodeDeployError('InternalFailure', String(error), 500);
      this.reply(res, status, { __type: type, message });
    }
  }

  private dispatch(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'ListDeployments': {
        const statuses = input.includeOnlyStatuses as string[] | undefined;
        const ids = [...this.deployments.entries()]
          .filter(([, d]) => d.application === input.applicationName && d.deploymentGroup === input.deploymentGroupName)
          .filter(([, d]) => !statuses || statuses.includes(d.status))
          .map(([id]) => id);
        const start = input.nextToken ? Number(input.nextToken) : 0;
        const next = start + this.pageSize < ids.length ? String(start + this.pageSize) : undefined;
        return { deployments: ids.slice(start, start + this.pageSize), ...(next ? { nextToken: next } : {}) };
      }
      case 'PutLifecycleEventHookExecutionStatus': {
        const deploymentId = String(input.deploymentId);
        const executionId = String(input.lifecycleEventHookExecutionId);
        if (!this.deployments.has(deploymentId)) throw new CodeDeployError('DeploymentDoesNotExistException', `deployment ${deploymentId} does not exist`);
        if (!['Succeeded', 'Failed'].includes(String(input.status))) throw new CodeDeployError('InvalidLifecycleEventHookExecutionStatusException', `status ${input.status}`);
        if (this.reports.some((r) => r.executionId === executionId)) {
          throw new CodeDeployError('LifecycleEventAlreadyCompletedException', `lifecycle event ${executionId} already completed`);
        }
        this.reports.push({ deploymentId, executionId, status: String(input.status) });
        return { lifecycleEventHookExecutionId: executionId };
      }
      default:
        throw new CodeDeployError('UnknownOperationException', `operation ${operation} is not faked`);
    }
  }

  private reply(res: http.ServerResponse, status: number, body: unknown): void {
    const payload = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `fake-${this.calls.length}`, 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  }
}
