import type { EventEmitter } from 'node:events';
import type { Context } from 'aws-lambda';

export const METADATA_PRELUDE_CONTENT_TYPE: string;

export interface ResponsePrelude {
  readonly statusCode: number;
  readonly headers?: Record<string, string>;
}

/** One streamed invocation as the Lambda service sees it; see lambda-runtime.js. */
export class StreamedResponse extends EventEmitter {
  constructor(options?: { highWaterMark?: number });
  readonly stream: any;
  contentType: string;
  prelude: ResponsePrelude | undefined;
  readonly chunks: Buffer[];
  ended: boolean;
  pause(): void;
  resume(): void;
  hangUp(): void;
  text(): string;
}

export function installRuntime(): void;
export function isStreamingHandler(handler: unknown): boolean;
export function invokeStreaming(handler: any, event: unknown, context: Context, response?: StreamedResponse): Promise<StreamedResponse>;
