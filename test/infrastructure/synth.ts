import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import cdkJson from '../../cdk.json';
import { buildApp } from '../../lib/app';
import type { HybridRoutingStack } from '../../lib/hybrid-routing-stack';

/** The environments cdk.json defines, in its order: the stacks `synthesize()` builds. */
export const ENVIRONMENT_NAMES = Object.keys(cdkJson.context.environments);

/**
 * Builds the app from cdk.json's own context, as `cdk synth` does; `context` adds to it. Templates
 * are all these tests read, so functions are not bundled (`test/integration/assets.test.ts` runs
 * the bundles); `context` may turn bundling back on.
 */
export function synthesize(context: Record<string, unknown> = {}): { app: App; stacks: HybridRoutingStack[] } {
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context } });
  return buildApp(app);
}

export const templateOf = (stack: Stack): Template => Template.fromStack(stack);

/** cdk-nag findings that are not acknowledged, as `rule @ construct path` lines. */
export function unacknowledgedFindings(app: App, stack: Stack): string[] {
  return [new AwsSolutionsChecks(app), new ServerlessChecks(app)].flatMap((pack) =>
    pack.validateScope(stack).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath ?? r.resourceLogicalId ?? 'unknown resource'}`)),
  );
}

/** The resources of one type in a template, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, { Properties: Record<string, any> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, any> }>;
}
