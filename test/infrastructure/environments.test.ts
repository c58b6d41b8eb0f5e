import cdkJson from '../../cdk.json';
import { stackNameOf } from '../../lib/app';
import { EnvironmentConfigError, selectEnvironments } from '../../lib/config/environment-config';
import { resourcesOf, synthesize, templateOf } from './synth';

/** Environments are the entries of cdk.json's `environments`, not a fixed list: a fourth one synthesizes and deploys like the others. */

const environments = cdkJson.context.environments as Record<string, any>;
const withQa = { ...environments, qa: { ...environments.dev, region: 'eu-west-1' } };

describe('environments come from cdk.json', () => {
  it('synthesizes a fourth entry with the others, and alone with -c env=qa', () => {
    // What synth with no -c env builds, one stack each (the other tests synthesize the three of cdk.json).
    expect(selectEnvironments((key) => ({ environments: withQa })[key]).map((e) => stackNameOf(e.name))).toEqual(['dev', 'staging', 'prod', 'qa'].map(stackNameOf));
    const [qa] = synthesize({ environments: withQa, env: 'qa' }).stacks;
    expect(qa!.stackName).toBe('HybridRouting-qa');
    expect(qa!.region).toBe('eu-west-1');
    const parameters = Object.values(resourcesOf(templateOf(qa!), 'AWS::SSM::Parameter')).map((p) => p.Properties.Name as string);
    expect(parameters).toContain('/hybrid-routing/qa/ramp/state');
    expect(parameters.every((name) => name.startsWith('/hybrid-routing/qa/'))).toBe(true);
  });

  it('names the entries there when -c env names none of them', () => {
    expect(() => synthesize({ environments: withQa, env: 'uat' })).toThrow(EnvironmentConfigError);
    expect(() => synthesize({ environments: withQa, env: 'uat' })).toThrow(/context "env" is "uat"; it must be one of dev, staging, prod, qa\. Fix: run with -c env=dev/);
  });

  it('refuses an entry whose name cannot name a stack, a path and alarms', () => {
    expect(() => synthesize({ environments: { ...environments, 'Load Test': environments.dev } })).toThrow(/"Load Test": an environment's name must be lowercase letters, digits and dashes/);
  });
});
