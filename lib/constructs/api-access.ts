import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../nag';

export interface ApiAccessProps {
  readonly environmentName: string;
  /** The API whose stage the policies grant. */
  readonly api: apigw.RestApi;
}

type Route = readonly [method: string, path: string];

const HEALTH_ROUTES: readonly Route[] = [
  ['GET', '/health'],
  ['GET', '/health/*'],
];

/** What callers may invoke: the request routes and the health endpoints (DESIGN §4, §12). */
export const CALLER_ROUTES: readonly Route[] = [
  ['POST', '/v1/invoke'],
  ['POST', '/v1/stream'],
  ['POST', '/v1/jobs'],
  ['GET', '/v1/jobs/*'],
  ...HEALTH_ROUTES,
];

/** What operators may invoke: every admin route, and the health endpoints the CLI's `health` reads. */
export const OPERATOR_ROUTES: readonly Route[] = [['*', '/admin/*'], ...HEALTH_ROUTES];

/**
 * Who may call what. IAM auth on the API only checks a signature; these two managed policies are
 * what an account attaches to its principals: callers get the request routes and never `/admin`,
 * operators get `/admin/*`. Both name this API and stage only.
 */
export class ApiAccess extends Construct {
  readonly callerPolicy: iam.ManagedPolicy;
  readonly operatorPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ApiAccessProps) {
    super(scope, id);
    this.callerPolicy = this.policy('CallerPolicy', props, CALLER_ROUTES, `Hybrid Routing ${props.environmentName}: call the request and health routes of the API`);
    this.operatorPolicy = this.policy('OperatorPolicy', props, OPERATOR_ROUTES, `Hybrid Routing ${props.environmentName}: operate the API's /admin routes and read health`);
  }

  private policy(id: string, props: ApiAccessProps, routes: readonly Route[], description: string): iam.ManagedPolicy {
    const stage = props.api.deploymentStage.stageName;
    const arns = routes.map(([method, path]) => props.api.arnForExecuteApi(method, path, stage));
    const policy = new iam.ManagedPolicy(this, id, {
      description,
      statements: [new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: arns })],
    });
    for (const [index, [method, path]] of routes.entries()) {
      if (!`${method}${path}`.includes('*')) continue;
      acknowledgeWildcardResource(
        policy,
        arns[index]!,
        `${method === '*' ? 'Every method' : method} below ${path.replace(/\/\*$/, '/')} of this API's ${stage} stage only: the routes there carry path parameters (job ids, component and flag names) or are the whole admin API.`,
      );
    }
    return policy;
  }
}
