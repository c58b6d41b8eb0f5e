import { LIVE_ALIAS_NAME, ROUTER_CODE_ENV } from '../../../lambda/shared/live-alias';
import { CodeDeployFake } from '../../fakes/codedeploy-fake';
import { LambdaFake } from '../../fakes/lambda-fake';

/** The router, alias and deployment group a function's `ROUTER_CODE_ENV` names in the tests. */
export const ROUTER = { functionName: 'router', aliasName: LIVE_ALIAS_NAME, application: 'HybridRouting-dev', deploymentGroup: 'router-live' } as const;

/** `ROUTER_CODE_ENV` as the stack sets it for the admin function, naming `ROUTER`. */
export const ROUTER_CODE_VARIABLES: Record<string, string> = Object.fromEntries(
  (Object.keys(ROUTER_CODE_ENV) as (keyof typeof ROUTER_CODE_ENV)[]).map((key) => [ROUTER_CODE_ENV[key], ROUTER[key]]),
);

const answer = async () => ({ statusCode: 200, body: '{}' });

/** The Lambda API and CodeDeploy a level-3 rollback reads and moves the router's alias through. */
export class RouterCodeFakes {
  readonly lambda = new LambdaFake();
  readonly codedeploy = new CodeDeployFake();

  async start(): Promise<this> {
    await Promise.all([this.lambda.start(), this.codedeploy.start()]);
    return this;
  }

  stop(): Promise<void[]> {
    return Promise.all([this.lambda.stop(), this.codedeploy.stop()]);
  }

  /** The standard endpoint variables that point a function's Lambda and CodeDeploy clients here. */
  get endpoints(): Record<string, string> {
    return { AWS_ENDPOINT_URL_LAMBDA: this.lambda.url, AWS_ENDPOINT_URL_CODEDEPLOY: this.codedeploy.url };
  }

  /** Versions 1 to `published` of the router, `live` on `serving`, and no deployment. */
  reset(published: number, serving: string): void {
    this.lambda.reset();
    this.codedeploy.reset();
    for (let i = 0; i < published; i += 1) this.lambda.publish(ROUTER.functionName, answer);
    this.lambda.setAlias(ROUTER.functionName, ROUTER.aliasName, serving);
  }

  /** Where `live` points: its version and any weighted shares. */
  get live(): { version: string; weights: Record<string, number> } {
    return this.lambda.alias(ROUTER.functionName, ROUTER.aliasName)!;
  }

  /** A CodeDeploy deployment of the router's alias in `status`. */
  deployment(id: string, status: string): void {
    this.codedeploy.deployments.set(id, { application: ROUTER.application, deploymentGroup: ROUTER.deploymentGroup, status });
  }
}
