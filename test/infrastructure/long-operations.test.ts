import { Match } from 'aws-cdk-lib/assertions';
import cdkJson from '../../cdk.json';
import { apiGatewaySchema } from '../../lib/constructs/api-model';
import { InvokeRequestSchema } from '../../lambda/shared/invoke-request';
import { JOB_MAX_RECEIVE_COUNT } from '../../lambda/shared/jobs';
import { ENVIRONMENT_NAMES, resourcesOf, synthesize, templateOf } from './synth';

const { stacks } = synthesize();
const environments = cdkJson.context.environments as Record<string, any>;

describe.each(ENVIRONMENT_NAMES.map((name, i) => [name, stacks[i]!] as const))('long operations in %s', (name, stack) => {
  const template = templateOf(stack);
  const config = environments[name];
  const functionOf = (prefix: string) => {
    const [id, fn] = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).find(([key]) => key.startsWith(prefix))!;
    return { id, fn };
  };
  /** The role's statements as `actions -> resources`, with the account and region made readable. */
  const statementsOf = (prefix: string) => {
    const roleId = functionOf(prefix).fn.Properties.Role['Fn::GetAtt'][0] as string;
    const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    return Object.fromEntries(statements.map((s: any) => [[s.Action].flat().join(','), JSON.stringify(s.Resource)]));
  };
  const logicalIdOf = (type: string, prefix: string) => Object.keys(resourcesOf(template, type)).find((id) => id.startsWith(prefix))!;
  const tableId = () => logicalIdOf('AWS::DynamoDB::Table', 'JobsTable');
  const queueId = () => logicalIdOf('AWS::SQS::Queue', 'JobsQueue');
  const deadLettersId = () => logicalIdOf('AWS::SQS::Queue', 'JobsDeadLetters');

  describe('POST /v1/stream', () => {
    it('streams through the Lambda response-streaming invocation, with the stream budget as its timeout', () => {
      const { id } = functionOf('StreamApiStreamFunction');
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'POST',
        AuthorizationType: 'AWS_IAM',
        RequestModels: { 'application/json': Match.anyValue() },
        RequestValidatorId: Match.anyValue(),
        Integration: {
          Type: 'AWS_PROXY',
          IntegrationHttpMethod: 'POST',
          ResponseTransferMode: 'STREAM',
          TimeoutInMillis: 65_000,
          Uri: { 'Fn::Join': ['', [`arn:aws:apigateway:${config.region}:lambda:path/2021-11-15/functions/`, { 'Fn::GetAtt': [id, 'Arn'] }, '/response-streaming-invocations']] },
        },
      });
      const expected = JSON.parse(JSON.stringify(apiGatewaySchema(InvokeRequestSchema, 'StreamRequest')).replace('"schema"', '"$schema"'));
      template.hasResourceProperties('AWS::ApiGateway::Model', { Name: 'StreamRequest', Schema: expected });
    });

    it('runs the stream function for the budget plus a margin to end the stream', () => {
      expect(functionOf('StreamApiStreamFunction').fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Timeout: 65,
        Environment: { Variables: { STREAM_BUDGET_MS: '60000', CONFIG_PATH: `/hybrid-routing/${name}`, BEDROCK_MODEL_ID: config.bedrock.modelId } },
      });
    });

    it('may stream only the configured model and read only its parameter path', () => {
      expect(statementsOf('StreamApiStreamFunction')).toEqual({
        'xray:PutTelemetryRecords,xray:PutTraceSegments': '"*"',
        'ssm:GetParameter,ssm:GetParameters,ssm:GetParametersByPath': expect.stringContaining(`:parameter/hybrid-routing/${name}/*`),
        'bedrock:InvokeModelWithResponseStream': `"arn:aws:bedrock:${config.region}::foundation-model/${config.bedrock.modelId}"`,
      });
    });
  });

  describe('jobs', () => {
    it('keeps jobs in an on-demand, KMS-encrypted table that expires items, with point-in-time recovery in prod', () => {
      const table = resourcesOf(template, 'AWS::DynamoDB::Table')[tableId()]! as any;
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: name === 'prod' },
      });
      expect(table.DeletionPolicy).toBe(name === 'prod' ? 'Retain' : 'Delete');
    });

    it('queues jobs with a dead-letter queue and a visibility timeout above the worker\'s timeout', () => {
      const { fn: worker } = functionOf('JobsWorkerFunction');
      const queue = resourcesOf(template, 'AWS::SQS::Queue')[queueId()]!.Properties;
      expect(worker.Properties.Timeout).toBe(11 * 60);
      expect(worker.Properties.Environment.Variables).toMatchObject({ JOB_BUDGET_MS: '600000', JOBS_MAX_RECEIVE_COUNT: String(JOB_MAX_RECEIVE_COUNT) });
      expect(queue.VisibilityTimeout).toBeGreaterThan(worker.Properties.Timeout);
      expect(queue).toMatchObject({
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [deadLettersId(), 'Arn'] }, maxReceiveCount: JOB_MAX_RECEIVE_COUNT },
      });
      expect(resourcesOf(template, 'AWS::SQS::Queue')[deadLettersId()]!.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      for (const id of [queueId(), deadLettersId()]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
        });
      }
    });

    it('feeds the worker and the dead-letter consumer with partial batch failures', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functionOf('JobsWorkerFunction').id },
        EventSourceArn: { 'Fn::GetAtt': [queueId(), 'Arn'] },
        BatchSize: 5,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 20 },
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functionOf('JobsDeadLetterFunction').id },
        EventSourceArn: { 'Fn::GetAtt': [deadLettersId(), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect(Object.keys(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'))).toHaveLength(2);
    });

    it('adds POST /v1/jobs, validated like /v1/invoke, and GET /v1/jobs/{jobId}, both under IAM auth', () => {
      const expected = JSON.parse(JSON.stringify(apiGatewaySchema(InvokeRequestSchema, 'JobRequest')).replace('"schema"', '"$schema"'));
      template.hasResourceProperties('AWS::ApiGateway::Model', { Name: 'JobRequest', Schema: expected });
      const api = functionOf('JobsApiFunction');
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'GET',
        AuthorizationType: 'AWS_IAM',
        RequestParameters: { 'method.request.path.jobId': true },
        Integration: { Type: 'AWS_PROXY', Uri: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [api.id, 'Arn'] }])] } },
      });
    });

    it('gives each function only what it does: the API writes jobs and queues them, the worker reads and updates them', () => {
      const table = `[{"Fn::GetAtt":["${tableId()}","Arn"]},{"Ref":"AWS::NoValue"}]`;
      const onTable = (resource: string) => [resource, table].includes(resource);
      const api = statementsOf('JobsApiFunction');
      expect(Object.keys(api).sort()).toEqual(['dynamodb:GetItem,dynamodb:PutItem,dynamodb:UpdateItem', 'sqs:SendMessage', 'xray:PutTelemetryRecords,xray:PutTraceSegments']);
      expect(onTable(api['dynamodb:GetItem,dynamodb:PutItem,dynamodb:UpdateItem']!)).toBe(true);
      expect(api['sqs:SendMessage']).toBe(`{"Fn::GetAtt":["${queueId()}","Arn"]}`);

      const worker = statementsOf('JobsWorkerFunction');
      expect(Object.keys(worker).sort()).toEqual([
        'bedrock:InvokeModel',
        'dynamodb:GetItem,dynamodb:UpdateItem',
        'sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage',
        'ssm:GetParameter,ssm:GetParameters,ssm:GetParametersByPath',
        'xray:PutTelemetryRecords,xray:PutTraceSegments',
      ]);
      expect(worker['sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage']).toBe(`{"Fn::GetAtt":["${queueId()}","Arn"]}`);
      expect(worker['bedrock:InvokeModel']).toBe(`"arn:aws:bedrock:${config.region}::foundation-model/${config.bedrock.modelId}"`);

      const deadLetters = statementsOf('JobsDeadLetterFunction');
      expect(Object.keys(deadLetters).sort()).toEqual([
        'dynamodb:GetItem,dynamodb:UpdateItem',
        'sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage',
        'xray:PutTelemetryRecords,xray:PutTraceSegments',
      ]);
      expect(deadLetters['sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage']).toBe(`{"Fn::GetAtt":["${deadLettersId()}","Arn"]}`);
      for (const statements of [api, worker, deadLetters]) for (const actions of Object.keys(statements)) expect(actions).not.toContain('*');
    });
  });
});

describe('long-operation budgets in cdk.json', () => {
  const withBudgets = (budgets: Record<string, unknown>) => {
    const context = structuredClone(cdkJson.context) as any;
    Object.assign(context.environments.dev, budgets);
    return { ...context, env: 'dev' };
  };

  it('sets the stream and job timeouts from the configured budgets, within Lambda\'s 15 minutes', () => {
    const { stacks: [stack] } = synthesize(withBudgets({ streaming: { budgetSeconds: 900 }, jobs: { budgetMinutes: 14 } }));
    const template = templateOf(stack!);
    const functions = Object.entries(resourcesOf(template, 'AWS::Lambda::Function'));
    const stream = functions.find(([id]) => id.startsWith('StreamApiStreamFunction'))![1].Properties;
    expect(stream.Timeout).toBe(900);
    expect(stream.Environment.Variables.STREAM_BUDGET_MS).toBe('895000');
    template.hasResourceProperties('AWS::ApiGateway::Method', { Integration: { ResponseTransferMode: 'STREAM', TimeoutInMillis: 900_000 } });
    expect(functions.find(([id]) => id.startsWith('JobsWorkerFunction'))![1].Properties.Timeout).toBe(900);
  });

  it('stops synth on a budget Lambda cannot run, naming the key', () => {
    expect(() => synthesize(withBudgets({ jobs: { budgetMinutes: 15 } }))).toThrow(/environments\.dev\.jobs\.budgetMinutes: must be at most 14/);
  });
});
