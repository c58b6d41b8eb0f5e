import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from './config/environment-config';
import { AdminApi } from './constructs/admin-api';
import { ConfigStore } from './constructs/config-store';
import { HealthChecks } from './constructs/health-checks';
import { Jobs } from './constructs/jobs';
import { Monitoring } from './constructs/monitoring';
import { Notifications } from './constructs/notifications';
import { Rollback } from './constructs/rollback';
import { RouterApi } from './constructs/router-api';
import { StreamApi } from './constructs/stream-api';

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
  readonly notifications: Notifications;
  readonly rollback: Rollback;
  readonly monitoring: Monitoring;
  readonly streamApi: StreamApi;
  readonly jobs: Jobs;

  constructor(scope: Construct, id: string, props: HybridRoutingStackProps) {
    super(scope, id, props);
    const { environmentName, config } = props;

    this.configStore = new ConfigStore(this, 'ConfigStore', { environmentName });
    this.routerApi = new RouterApi(this, 'RouterApi', { environmentName, config, configStore: this.configStore });
    this.healthChecks = new HealthChecks(this, 'HealthChecks', { environmentName, config, configStore: this.configStore });
    this.adminApi = new AdminApi(this, 'AdminApi', { environmentName, config, configStore: this.configStore, api: this.routerApi.api });
    this.streamApi = new StreamApi(this, 'StreamApi', { environmentName, config, configStore: this.configStore, api: this.routerApi.api });
    this.jobs = new Jobs(this, 'Jobs', { environmentName, config, configStore: this.configStore, api: this.routerApi.api, pointInTimeRecovery: environmentName === 'prod' });
    this.notifications = new Notifications(this, 'Notifications', { environmentName, email: config.notificationEmail });
    this.rollback = new Rollback(this, 'Rollback', { environmentName, config, configStore: this.configStore, topic: this.notifications.topic });
    const { routerFunction } = this.routerApi;
    this.monitoring = new Monitoring(this, 'Monitoring', {
      environmentName,
      config,
      topic: this.notifications.topic,
      rollbackFunction: this.rollback.rollbackFunction,
      routerFunction,
      functions: [
        { fn: routerFunction, memorySize: routerFunction.memorySize, label: 'router' },
        { fn: this.healthChecks.healthCheckFunction, memorySize: this.healthChecks.healthCheckFunction.memorySize, label: 'health check' },
        { fn: this.adminApi.adminFunction, memorySize: this.adminApi.adminFunction.memorySize, label: 'admin' },
        { fn: this.rollback.rollbackFunction, memorySize: this.rollback.rollbackFunction.memorySize, label: 'rollback' },
        { fn: this.streamApi.streamFunction, memorySize: this.streamApi.streamFunction.memorySize, label: 'stream' },
        { fn: this.jobs.apiFunction, memorySize: this.jobs.apiFunction.memorySize, label: 'jobs API' },
        { fn: this.jobs.workerFunction, memorySize: this.jobs.workerFunction.memorySize, label: 'job worker' },
        { fn: this.jobs.deadLetterFunction, memorySize: this.jobs.deadLetterFunction.memorySize, label: 'job dead letters' },
      ],
      api: this.routerApi.api,
      accessLogs: this.routerApi.accessLogs,
      routerLogs: routerFunction.logGroup,
      webAclName: this.routerApi.webAcl?.name,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.routerApi.api.url, description: 'Base URL of the Hybrid Routing API' });
    new CfnOutput(this, 'ConfigPath', { value: this.configStore.path, description: 'SSM parameter path of this environment' });
    new CfnOutput(this, 'NotificationTopicArn', { value: this.notifications.topic.topicArn, description: 'SNS topic for alarms and rollbacks' });
    new CfnOutput(this, 'RollbackFunctionName', { value: this.rollback.rollbackFunction.functionName, description: 'Invoke by hand for a rollback without the API' });
  }
}
