import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one wildcard-resource finding (AwsSolutions-IAM5) on `scope` for exactly `arn`,
 * rendered the way cdk-nag prints it (`Ref`s as `<AWS::Region>`, `Fn::GetAtt`s as `<Id.Arn>`), so the
 * acknowledgement cannot drift from the statement it excuses.
 */
export function acknowledgeWildcardResource(scope: IConstruct, arn: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${renderForNag(Stack.of(scope).resolve(arn))}]`, reason });
}

/**
 * Gives a function's role `statements` as a policy of their own, and acknowledges their wildcard
 * resources on that policy alone: the same wildcard in any other statement of the role, or a new
 * one, still fails synth. The function waits for the policy, so it never runs without it.
 */
export function attachWildcardPolicy(fn: lambda.Function, id: string, statements: iam.PolicyStatement[], reason: string): iam.Policy {
  if (!fn.role) throw new Error(`function ${fn.node.path} has no role to attach policy ${id} to`);
  const policy = new iam.Policy(fn, id, { statements, roles: [fn.role] });
  const wildcards = new Set(statements.flatMap((statement) => statement.resources).filter((resource) => resource.includes('*')));
  for (const arn of wildcards) acknowledgeWildcardResource(policy, arn, reason);
  fn.node.defaultChild!.node.addDependency(policy);
  return policy;
}

function renderForNag(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.Ref === 'string') return `<${record.Ref}>`;
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt.length === 2) return `<${getAtt.join('.')}>`;
    const join = record['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1])) {
      return (join[1] as unknown[]).map(renderForNag).join(String(join[0]));
    }
  }
  throw new Error(`cannot render ${JSON.stringify(value)} as a cdk-nag finding; acknowledge it explicitly`);
}
