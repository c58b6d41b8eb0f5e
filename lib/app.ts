import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { selectEnvironments } from './config/environment-config';
import { HybridRoutingStack } from './hybrid-routing-stack';

/** `HybridRouting-<env>` */
export const stackNameOf = (environmentName: string): string => `HybridRouting-${environmentName}`;

/**
 * Builds the app: one stack per selected environment, with cdk-nag's AwsSolutions and Serverless
 * packs as validation plugins, so an unacknowledged finding fails synth.
 */
export function buildApp(app: App = new App()): { app: App; stacks: HybridRoutingStack[] } {
  const stacks = selectEnvironments((key) => app.node.tryGetContext(key)).map(({ name, config }) => {
    const stack = new HybridRoutingStack(app, stackNameOf(name), {
      environmentName: name,
      config,
      env: { account: config.account, region: config.region },
      description: `Hybrid Routing (${name}): AI request routing to Bedrock or MCP with automatic rollback`,
    });
    Tags.of(stack).add('project', 'hybrid-routing');
    Tags.of(stack).add('environment', name);
    return stack;
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stacks };
}
