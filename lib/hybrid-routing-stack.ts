import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from './config/environment-config';
import { AdminApi } from './constructs/admin-api';
import { ApiAccess } from './constructs/api-access';
import { ConfigStore } from './constructs/config-store';
import { HealthChecks } from './constructs/health-checks';
import { Jobs } from './constructs/jobs';
import { Monitoring } from './constructs/monitoring';
import { Notifications } from './constructs/notifications';
import { RampController } from './constructs/ramp-controller';
import { Rollback } from './constructs/rollback';
import { RouterApi } from './constructs/router-api';
import { RouterDeployment } from './constructs/router-deployment';
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
  readonly access: ApiAccess;
  readonly routerDeployment: RouterDeployment;
  readonly streamApi: StreamApi;
  readonly jobs: Jobs;
  readonly rampController: RampController;

  constructor(scope: Construct, id: string, props: HybridRoutingStackProps) {
    super(scope, id, props);
    const { environmentName, config } = props;

    this.configStore = new ConfigStore(this, 'ConfigStore', { environmentName });
    this.routerApi = new RouterApi(this, 'RouterApi', { environmentName, config, configStore: this.configStore });
    this.healthChecks = new HealthChecks(this, 'HealthChecks', { environmentName, config, configStore: this.configStore });
    this.notifications = new Notifications(this, 'Notifications', {
      environmentName,
      emails: config.notifications.emails,
      forwardTo: config.notifications.forwardTo,
      logRetention: config.logRetentionDays,
    });
    this.adminApi = new AdminApi(this, 'AdminApi', { environmentName, config, configStore: this.configStore, api: this.routerApi.api, topic: this.notifications.topic });
    this.streamApi = new StreamApi(this, 'StreamApi', { environmentName, config, configStore: this.configStore, api: this.routerApi.api });
    this.jobs = new Jobs(this, 'Jobs', { environmentName, config, configStore: this.configStore, api: this.routerApi.api, pointInTimeRecovery: environmentName === 'prod' });
    this.rollback = new Rollback(this, 'Rollback', { environmentName, config, configStore: this.configStore, topic: this.notifications.topic });
    this.routerDeployment = new RouterDeployment(this, 'RouterDeployment', {
      environmentName,
      config,
      routerFunction: this.routerApi.routerFunction,
      alias: this.routerApi.routerAlias,
      topic: this.notifications.topic,
    });
    this.routerDeployment.grantCodeRollback(this.adminApi.adminFunction);
    this.rampController = new RampController(this, 'RampController', { environmentName, config, configStore: this.configStore, topic: this.notifications.topic });
    this.rampController.grantOperate(this.adminApi.adminFunction, config, environmentName);
    const { routerFunction } = this.routerApi;
    this.monitoring = new Monitoring(this, 'Monitoring', {
      environmentName,
      config,
      topic: this.notifications.topic,
      rollbackFunction: this.rollback.rollbackFunction,
      routerFunction,
      rampFunction: this.rampController.controllerFunction,
      deadLetterQueues: [
        { label: 'health-check-failures', queue: this.healthChecks.failures, holds: this.healthChecks.failures.holds },
        { label: 'rollback-failures', queue: this.rollback.failures, holds: this.rollback.failures.holds },
        ...this.notifications.deadLetterQueues,
        {
          label: 'job-failures',
          queue: this.jobs.deadLetterQueue,
          holds: this.jobs.deadLetterQueue.holds,
          // Its consumer marks each job failed and deletes the message, so count arrivals, not what is left.
          metric: this.jobs.metricDeadLettered({ period: Duration.minutes(1) }),
          action: 'Each job is marked failed with its error; look up why in the worker\'s logs.',
        },
        { label: 'smoke-test-failures', queue: this.routerDeployment.failures, holds: this.routerDeployment.failures.holds },
        { label: 'ramp-failures', queue: this.rampController.failures, holds: this.rampController.failures.holds },
      ],
      functions: [
        { fn: routerFunction, memorySize: routerFunction.memorySize, label: 'router' },
        { fn: this.healthChecks.healthCheckFunction, memorySize: this.healthChecks.healthCheckFunction.memorySize, label: 'health check' },
        { fn: this.adminApi.adminFunction, memorySize: this.adminApi.adminFunction.memorySize, label: 'admin' },
        { fn: this.rollback.rollbackFunction, memorySize: this.rollback.rollbackFunction.memorySize, label: 'rollback' },
        { fn: this.streamApi.streamFunction, memorySize: this.streamApi.streamFunction.memorySize, label: 'stream' },
        { fn: this.jobs.apiFunction, memorySize: this.jobs.apiFunction.memorySize, label: 'jobs API' },
        { fn: this.jobs.workerFunction, memorySize: this.jobs.workerFunction.memorySize, label: 'job worker' },
        { fn: this.jobs.deadLetterFunction, memorySize: this.jobs.deadLetterFunction.memorySize, label: 'job dead letters' },
        { fn: this.rampController.controllerFunction, memorySize: this.rampController.controllerFunction.memorySize, label: 'ramp controller' },
      ],
      api: this.routerApi.api,
      accessLogs: this.routerApi.accessLogs,
      routerLogs: routerFunction.logGroup,
      webAclName: this.routerApi.webAcl?.name,
    });
    this.access = new ApiAccess(this, 'Access', { environmentName, api: this.routerApi.api });

    // Monitoring's error-rate and throttle alarms stop and roll back a router deploy too (DESIGN §11).
    const { hybridErrorRate, hybridErrorRateLowTraffic, routerThrottles } = this.monitoring.alarms;
    for (const alarm of [hybridErrorRate, hybridErrorRateLowTraffic, routerThrottles]) {
      this.routerDeployment.deploymentGroup.addAlarm(alarm);
    }

    new CfnOutput(this, 'ApiUrl', { value: this.routerApi.api.url, description: 'Base URL of the Hybrid Routing API' });
    new CfnOutput(this, 'ConfigPath', { value: this.configStore.path, description: 'SSM parameter path of this environment' });
    new CfnOutput(this, 'NotificationTopicArn', { value: this.notifications.topic.topicArn, description: 'SNS topic for alarms and rollbacks' });
    new CfnOutput(this, 'RouterFunctionName', { value: routerFunction.functionName, description: 'The router function; its live alias serves the API' });
    new CfnOutput(this, 'RouterDeploymentGroup', {
      value: `${this.routerDeployment.application.applicationName}/${this.routerDeployment.deploymentGroup.deploymentGroupName}`,
      description: 'CodeDeploy application/deployment group that shifts the router\'s live alias',
    });
    new CfnOutput(this, 'RollbackFunctionName', { value: this.rollback.rollbackFunction.functionName, description: 'Invoke by hand for a rollback without the API' });
    new CfnOutput(this, 'CallerPolicyArn', { value: this.access.callerPolicy.managedPolicyArn, description: 'Attach to principals that call /v1/* and /health*' });
    new CfnOutput(this, 'OperatorPolicyArn', { value: this.access.operatorPolicy.managedPolicyArn, description: 'Attach to principals that operate /admin/*' });
    if (this.notifications.forwarder) {
      new CfnOutput(this, 'NotificationForwarderRoleArn', {
        value: this.notifications.forwarder.role!.roleArn,
        description: 'Let this role publish to each notifications.forwardTo topic (and use its key, if encrypted)',
      });
    }
  }
}
