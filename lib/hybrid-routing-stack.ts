import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from './config/environment-config';
import { AdminApi } from './constructs/admin-api';
import { ConfigStore } from './constructs/config-store';
import { HealthChecks } from './constructs/health-checks';
import { RouterApi } from './constructs/router-api';

export interface HybridRoutingStackProps extends StackProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
}

/** One environment of Hybrid Routing. The stack only wires the constructs together. */
export class HybridRoutingStack extends Stack {
  readonly configStore: ConfigStore;
  readonly routerApi: RouterApi;
  readonly healthChecks: HealthChecks;
  readonly adminApi: AdminApi;

  constructor(scope: Construct, id: string, props: HybridRoutingStackProps) {
    super(scope, id, props);
    const { environmentName, config } = props;

    this.configStore = new ConfigStore(this, 'ConfigStore', { environmentName });
    this.routerApi = new RouterApi(this, 'RouterApi', { environmentName, config, configStore: this.configStore });
    this.healthChecks = new HealthChecks(this, 'HealthChecks', { environmentName, config, configStore: this.configStore });
    this.adminApi = new AdminApi(this, 'AdminApi', { environmentName, config, configStore: this.configStore, api: this.routerApi.api });

    new CfnOutput(this, 'ApiUrl', { value: this.routerApi.api.url, description: 'Base URL of the Hybrid Routing API' });
    new CfnOutput(this, 'ConfigPath', { value: this.configStore.path, description: 'SSM parameter path of this environment' });
  }
}
