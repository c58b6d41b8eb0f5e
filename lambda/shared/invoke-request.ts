import * as z from 'zod/v4';
import { OPERATIONS } from './vocabulary';

/** Largest request body the router accepts (DESIGN §4); larger bodies get 413 before parsing. */
export const MAX_BODY_BYTES = 256 * 1024;
export const MAX_TOKENS_LIMIT = 8192;

const integerBetween = (field: string, min: number, max: number) =>
  z
    .number({ error: `${field} must be an integer from ${min} to ${max}` })
    .int({ error: `${field} must be an integer from ${min} to ${max}` })
    .min(min, { error: `${field} must be an integer from ${min} to ${max}` })
    .max(max, { error: `${field} must be an integer from ${min} to ${max}` });

export const MessageSchema = z
  .object({
    role: z.enum(['user', 'assistant'], { error: 'role must be "user" or "assistant"' }),
    content: z
      .string({ error: 'content must be a string' })
      .min(1, { error: 'content must be a non-empty string' }),
  })
  .strict();

/**
 * The body of `POST /v1/invoke`. This one schema validates requests in the router, generates the
 * API Gateway request model and documents the API.
 */
export const InvokeRequestSchema = z
  .object({
    operation: z.enum(OPERATIONS, { error: `operation must be one of ${OPERATIONS.join(', ')}` }),
    messages: z
      .array(MessageSchema, { error: 'messages must be an array of 1 to 100 messages' })
      .min(1, { error: 'messages must be an array of 1 to 100 messages' })
      .max(100, { error: 'messages must be an array of 1 to 100 messages' }),
    system: z
      .string({ error: 'system must be a string' })
      .min(1, { error: 'system must be a non-empty string when present' })
      .optional(),
    maxTokens: integerBetween('maxTokens', 1, MAX_TOKENS_LIMIT).optional(),
    temperature: z
      .number({ error: 'temperature must be a number from 0 to 1' })
      .min(0, { error: 'temperature must be a number from 0 to 1' })
      .max(1, { error: 'temperature must be a number from 0 to 1' })
      .optional(),
    routingKey: z
      .string({ error: 'routingKey must be a string of 1 to 128 characters' })
      .min(1, { error: 'routingKey must be a string of 1 to 128 characters' })
      .max(128, { error: 'routingKey must be a string of 1 to 128 characters' })
      .optional(),
  })
  .strict();

export type InvokeRequest = z.infer<typeof InvokeRequestSchema>;
