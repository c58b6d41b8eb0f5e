import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { attachWildcardPolicy } from '../nag';
import { DEFAULT_PARAMETER_VALUES, INITIAL_HEALTH_VALUE, PARAMETER, healthParameter, parameterPath } from '../../lambda/shared/routing-config';
import { COMPONENTS } from '../../lambda/shared/vocabulary';

export interface ConfigStoreProps {
  readonly environmentName: string;
}

/**
 * The configuration store of DESIGN §6: one SSM String parameter per setting under
 * `/hybrid-routing/{env}/`, created with safe defaults (hybrid routing off, traffic 0, mode auto,
 * default policy, latch clear, breaker epoch 0), and one `health/{component}` parameter per
 * component, `unknown` until the health checks write it. Values change at run time; a deploy only
 * rewrites a value when its default in code changes, and destroying the stack removes them all.
 */
export class ConfigStore extends Construct {
  /** `/hybrid-routing/{env}` */
  readonly path: string;
  readonly parameters: Readonly<Record<string, ssm.IStringParameter>>;

  constructor(scope: Construct, id: string, props: ConfigStoreProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]*$/.test(props.environmentName)) {
      throw new Error(`environmentName must be lowercase letters, digits and dashes, got "${props.environmentName}"`);
    }
    this.path = parameterPath(props.environmentName);

    const parameters: Record<string, ssm.IStringParameter> = {};
    for (const [name, value] of Object.entries(DEFAULT_PARAMETER_VALUES)) {
      parameters[name] = new ssm.StringParameter(this, constructIdOf(name), {
        parameterName: `${this.path}/${name}`,
        stringValue: value,
        description: 'initial value set by deployment',
        tier: ssm.ParameterTier.STANDARD,
      });
    }
    for (const component of COMPONENTS) {
      const name = healthParameter(component);
      parameters[name] = new ssm.StringParameter(this, constructIdOf(name), {
        parameterName: `${this.path}/${name}`,
        stringValue: INITIAL_HEALTH_VALUE,
        description: 'no health check has run yet',
        tier: ssm.ParameterTier.STANDARD,
      });
    }
    this.parameters = parameters;
  }

  /** ARN of one parameter by its name relative to the path, or of the path itself. */
  parameterArn(name?: string): string {
    return Stack.of(this).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: `${this.path.slice(1)}${name ? `/${name}` : ''}`,
    });
  }

  /**
   * Read-only access to this environment's whole path: what the functions need, nothing more.
   * The grant is a policy of its own, so its path wildcard is acknowledged there only.
   */
  grantReadPath(fn: lambda.Function): iam.Policy {
    return attachWildcardPolicy(
      fn,
      'ConfigStoreRead',
      [new iam.PolicyStatement({ actions: ['ssm:GetParametersByPath', 'ssm:GetParameters', 'ssm:GetParameter'], resources: [this.parameterArn(), this.parameterArn('*')] })],
      `Read-only access to this environment's own parameter path ${this.path}/*, which the function reads whole in one cached GetParametersByPath call.`,
    );
  }

  /** `PutParameter` on the settings (flag, traffic, mode, policy, latch, epoch, ramp), never on `health/*`. */
  grantSettingsWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:PutParameter'],
      resourceArns: Object.values(PARAMETER).map((name) => this.parameterArn(name)),
    });
  }

  /** `PutParameter` on what a rollback writes: the latch, the flag and the traffic percentage. */
  grantRollbackWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:PutParameter'],
      resourceArns: [PARAMETER.rollbackState, PARAMETER.hybridRoutingFlag, PARAMETER.trafficPercentage].map((name) => this.parameterArn(name)),
    });
  }

  /** `PutParameter` on what the ramp controller writes: the latch, the flag, the traffic percentage and `ramp/state`. */
  grantRampWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:PutParameter'],
      resourceArns: RAMP_WRITES.map((name) => this.parameterArn(name)),
    });
  }

  /**
   * `GetParameterHistory` on the parameters a writer of the latch, flag, traffic or ramp writes:
   * how it finds the writes that landed between its read and its own (`RollbackLatch`, `RampRecord`).
   */
  grantWriteHistoryRead(grantee: iam.IGrantable, names: readonly string[] = RAMP_WRITES): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:GetParameterHistory'],
      resourceArns: names.map((name) => this.parameterArn(name)),
    });
  }

  /** `PutParameter` on the five `health/*` parameters only: what the health checks write. */
  grantHealthWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:PutParameter'],
      resourceArns: COMPONENTS.map((component) => this.parameterArn(healthParameter(component))),
    });
  }
}

/** What the ramp controller may write (DESIGN §10): flag, traffic, latch and its own state. */
const RAMP_WRITES = [PARAMETER.rollbackState, PARAMETER.hybridRoutingFlag, PARAMETER.trafficPercentage, PARAMETER.rampState];

function constructIdOf(parameterName: string): string {
  return parameterName
    .split(/[/-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

