/**
 * DESIGN §11: the router serves through the `live` alias of a published version. The CDK
 * constructs and the functions that read or move the alias share these names.
 */

/** The alias API Gateway invokes and CodeDeploy shifts from version to version. */
export const LIVE_ALIAS_NAME = 'live';

/** The environment variables that tell a function which router, alias and deployment group a level-3 rollback acts on. */
export const ROUTER_CODE_ENV = {
  functionName: 'ROUTER_FUNCTION_NAME',
  aliasName: 'ROUTER_ALIAS_NAME',
  application: 'CODEDEPLOY_APPLICATION',
  deploymentGroup: 'CODEDEPLOY_DEPLOYMENT_GROUP',
} as const;
