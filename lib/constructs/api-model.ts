import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as z from 'zod/v4';

/**
 * Turns a zod schema into the draft-04 JSON schema API Gateway validates against, so the gateway
 * and the function enforce one definition.
 */
export function apiGatewaySchema(schema: z.ZodType, title: string): apigw.JsonSchema {
  const { $schema: _ignored, ...jsonSchema } = z.toJSONSchema(schema, { target: 'draft-04', io: 'input' }) as Record<string, unknown>;
  return { schema: apigw.JsonSchemaVersion.DRAFT4, title, ...jsonSchema } as apigw.JsonSchema;
}
