import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { attachWildcardPolicy } from '../nag';

/** The repository root: where package-lock.json and the `lambda/` sources live. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export interface HybridFunctionProps {
  /** Entry file, relative to `lambda/`, e.g. `router/handler.ts`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
  /**
   * How the function is invoked. A synchronous function (behind API Gateway) has no events to
   * dead-letter; an asynchronous one must be given an on-failure destination by its construct; a
   * queue consumer's failed messages stay in its queue, whose redrive policy dead-letters them.
   */
  readonly invocation: 'synchronous' | 'asynchronous' | 'queue';
  readonly environment?: Record<string, string>;
  /**
   * Concurrency kept for this function alone.
   * @default - none: the function shares the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A Node.js function as this product deploys them all: nodejs24.x on arm64, bundled locally by
 * esbuild into one minified ESM file with source maps and the AWS SDK included (so the SDK that
 * is tested is the SDK that runs), active tracing, and its own log group with explicit retention.
 * The tracing grant is a policy of its own, so its `Resource: *` is acknowledged there and nowhere
 * else on the role.
 */
export class HybridFunction extends nodejs.NodejsFunction {
  /** Configured memory in MB, for cost estimates. */
  readonly memorySize: number;

  constructor(scope: Construct, id: string, props: HybridFunctionProps) {
    if (props.memorySize < 128 || props.memorySize > 10_240) {
      throw new Error(`memorySize must be from 128 to 10240 MB, got ${props.memorySize}`);
    }
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: path.join(PROJECT_ROOT, 'lambda', props.entry),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      // Active tracing is set below, without the grant `tracing` would add to the default policy.
      logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        externalModules: [],
        // Bundled CommonJS dependencies call require(); an ESM bundle has to provide it.
        esbuildArgs: {
          // The MCP client is always given the cfworker validator, so ajv is dead weight.
          '--alias:ajv': path.join(PROJECT_ROOT, 'lambda', 'adapters', 'bundling', 'ajv-not-bundled.ts'),
          '--alias:ajv-formats': path.join(PROJECT_ROOT, 'lambda', 'adapters', 'bundling', 'ajv-not-bundled.ts'),
        },
        banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
    });
    this.memorySize = props.memorySize;
    (this.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: lambda.Tracing.ACTIVE };
    attachWildcardPolicy(
      this,
      'XRayTracing',
      [new iam.PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] })],
      'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; this policy of the function\'s role holds only them.',
    );
    this.acknowledgeFindings(props.invocation);
  }

  /** The findings every function of this shape raises, each for a reason that holds for all of them. */
  private acknowledgeFindings(invocation: HybridFunctionProps['invocation']): void {
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'Lets the function write its own CloudWatch logs; AWS maintains this managed policy for exactly that.',
    });
    if (invocation === 'synchronous') {
      Validations.of(this).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason: 'Invoked synchronously by API Gateway only; a failed request is answered to its caller, so there is no event to dead-letter.',
      });
      Validations.of(this).acknowledge({
        id: 'Serverless-LambdaAsyncFailureDestination',
        reason: 'Invoked synchronously by API Gateway only; there are no asynchronous invocations to route on failure.',
      });
    } else if (invocation === 'queue') {
      Validations.of(this).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason: 'Invoked only by an SQS event source mapping: a failed message returns to its queue, whose redrive policy moves it to a dead-letter queue.',
      });
      Validations.of(this).acknowledge({
        id: 'Serverless-LambdaAsyncFailureDestination',
        reason: 'Invoked only by an SQS event source mapping, synchronously; there are no asynchronous invocations to route on failure.',
      });
      Validations.of(this).acknowledge({
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason: 'SQS event source mappings take no on-failure destination; the queue\'s redrive policy to its dead-letter queue does that job.',
      });
    } else {
      Validations.of(this).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason: 'Failed asynchronous invocations go to an on-failure destination queue, which supersedes a function DLQ and records the error too.',
      });
    }
  }
}
