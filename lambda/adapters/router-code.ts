import { CodeDeployClient, ListDeploymentsCommand, type DeploymentStatus } from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, LambdaClient, ListVersionsByFunctionCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import type { RouterCodePort, RouterCodeState } from '../core/code-rollback';
import { ROUTER_CODE_ENV } from '../shared/live-alias';
import { requireEnv } from './environment';

export interface RouterCodeOptions {
  readonly functionName: string;
  readonly aliasName: string;
  readonly application: string;
  readonly deploymentGroup: string;
  /** Deadline of the whole read (alias, every page of versions, deployments). */
  readonly readDeadlineMs?: number;
  /** Deadline of the alias update. */
  readonly moveDeadlineMs?: number;
}

/** Deployment states that may still move the alias. */
const UNFINISHED: DeploymentStatus[] = ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'];

/**
 * The router's alias through the Lambda API, and its deployments through CodeDeploy: what a
 * level-3 rollback reads and moves. Needs `lambda:GetAlias`, `lambda:ListVersionsByFunction`,
 * `lambda:UpdateAlias` on the router and `codedeploy:ListDeployments` on its deployment group.
 */
export class RouterCode implements RouterCodePort {
  private readonly readDeadlineMs: number;
  private readonly moveDeadlineMs: number;

  constructor(
    private readonly lambda: LambdaClient,
    private readonly codedeploy: CodeDeployClient,
    private readonly options: RouterCodeOptions,
  ) {
    this.readDeadlineMs = options.readDeadlineMs ?? 8_000;
    this.moveDeadlineMs = options.moveDeadlineMs ?? 5_000;
  }

  async readState(): Promise<RouterCodeState> {
    const abortSignal = AbortSignal.timeout(this.readDeadlineMs);
    const { functionName, aliasName } = this.options;
    const [alias, publishedVersions, deploymentsInProgress] = await Promise.all([
      this.lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: aliasName }), { abortSignal }),
      this.listVersions(abortSignal),
      this.listUnfinishedDeployments(abortSignal),
    ]);
    if (!alias.FunctionVersion) throw new Error(`alias ${aliasName} of ${functionName} names no version`);
    return {
      aliasName,
      aliasVersion: alias.FunctionVersion,
      additionalWeights: alias.RoutingConfig?.AdditionalVersionWeights ?? {},
      revisionId: alias.RevisionId,
      publishedVersions,
      deploymentsInProgress,
    };
  }

  async moveAlias(version: string, revisionId: string | undefined): Promise<boolean> {
    try {
      await this.lambda.send(
        new UpdateAliasCommand({
          FunctionName: this.options.functionName,
          Name: this.options.aliasName,
          FunctionVersion: version,
          RoutingConfig: { AdditionalVersionWeights: {} },
          RevisionId: revisionId,
        }),
        { abortSignal: AbortSignal.timeout(this.moveDeadlineMs) },
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'PreconditionFailedException') return false;
      throw error;
    }
  }

  private async listVersions(abortSignal: AbortSignal): Promise<string[]> {
    const versions: string[] = [];
    let marker: string | undefined;
    do {
      const page = await this.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: this.options.functionName, Marker: marker }), { abortSignal });
      for (const fn of page.Versions ?? []) if (fn.Version) versions.push(fn.Version);
      marker = page.NextMarker;
    } while (marker);
    return versions;
  }

  private async listUnfinishedDeployments(abortSignal: AbortSignal): Promise<string[]> {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.codedeploy.send(
        new ListDeploymentsCommand({
          applicationName: this.options.application,
          deploymentGroupName: this.options.deploymentGroup,
          includeOnlyStatuses: UNFINISHED,
          nextToken,
        }),
        { abortSignal },
      );
      ids.push(...(page.deployments ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return ids;
  }
}

/**
 * The router's alias as the stack describes it to a function in `ROUTER_CODE_ENV`, with real
 * clients whose own retries are off: call once at module scope.
 */
export function routerCodeFromEnvironment(): RouterCode {
  return new RouterCode(new LambdaClient({ maxAttempts: 1 }), new CodeDeployClient({ maxAttempts: 1 }), {
    functionName: requireEnv(ROUTER_CODE_ENV.functionName),
    aliasName: requireEnv(ROUTER_CODE_ENV.aliasName),
    application: requireEnv(ROUTER_CODE_ENV.application),
    deploymentGroup: requireEnv(ROUTER_CODE_ENV.deploymentGroup),
  });
}
