'use strict';
// A stand-in for the parts of the Lambda Node.js runtime a response-streaming handler meets,
// following aws-lambda-nodejs-runtime-interface-client: the `awslambda` global with
// `streamifyResponse` (a symbol on the handler) and `HttpResponseStream.from` (a JSON metadata
// prelude and 8 null bytes before the first write), and the response stream itself, a writable
// request to the runtime API that exposes only Writable members and `setContentType`.
// Plain CommonJS, so both the jest tests and the asset runner (invoke-asset.mjs) load it.
const { EventEmitter } = require('node:events');
const { Writable } = require('node:stream');

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const STREAM_RESPONSE = 'response';
const METADATA_PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER = Buffer.alloc(8);

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(METADATA_PRELUDE_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(DELIMITER.length));
    };
    return underlyingStream;
  }
}

function streamifyResponse(handler) {
  handler[HANDLER_STREAMING] = STREAM_RESPONSE;
  return handler;
}

/** Puts `awslambda` on the global object, as the runtime does before loading the handler. */
function installRuntime() {
  globalThis.awslambda = { streamifyResponse, HttpResponseStream };
}

const isStreamingHandler = (handler) => handler[HANDLER_STREAMING] === STREAM_RESPONSE;

/**
 * One streamed invocation as the Lambda service sees it. Emits `prelude` ({ statusCode, headers }),
 * `data` (body chunks) and `end`. `pause()` stops taking bytes, so the handler meets back-pressure
 * as it would from a caller who stops reading; `hangUp()` breaks the connection.
 */
class StreamedResponse extends EventEmitter {
  constructor({ highWaterMark = 16 * 1024 } = {}) {
    super();
    this.contentType = 'application/octet-stream';
    this.prelude = undefined;
    this.chunks = [];
    this.ended = false;
    this.paused = false;
    this.pending = [];
    this.head = Buffer.alloc(0);
    const self = this;
    this.transport = new Writable({
      highWaterMark,
      write(chunk, _encoding, callback) {
        if (self.paused) self.pending.push(() => self.take(chunk, callback));
        else self.take(chunk, callback);
      },
      final(callback) {
        self.ended = true;
        if (self.contentType !== METADATA_PRELUDE_CONTENT_TYPE && !self.prelude) self.emitPrelude({ statusCode: 200, headers: { 'content-type': self.contentType } });
        self.emit('end');
        callback();
      },
    });
    this.transport.on('error', () => undefined);
    this.stream = this.createStream();
  }

  /** The object handed to the handler: the runtime's `writableStreamOnly` view of its request. */
  createStream() {
    const inner = this.transport;
    const self = this;
    let firstWrite = true;
    const stream = {};
    for (const fn of ['cork', 'destroy', 'end', 'uncork', 'addListener', 'emit', 'eventNames', 'getMaxListeners', 'listenerCount', 'listeners', 'off', 'on', 'once', 'prependListener', 'prependOnceListener', 'rawListeners', 'removeAllListeners', 'removeListener', 'setMaxListeners']) {
      stream[fn] = inner[fn].bind(inner);
    }
    stream.setContentType = (contentType) => {
      if (!firstWrite) throw new Error('Cannot set content-type, too late.');
      self.contentType = contentType;
    };
    stream.write = function (chunk, encoding, callback) {
      if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && chunk?.constructor !== Uint8Array) chunk = JSON.stringify(chunk);
      if (firstWrite && typeof this._onBeforeFirstWrite === 'function') this._onBeforeFirstWrite((c) => inner.write(c));
      firstWrite = false;
      return inner.write(chunk, encoding, callback);
    };
    for (const prop of ['destroyed', 'writable', 'writableFinished', 'writableEnded', 'writableNeedDrain', 'writableLength', 'writableHighWaterMark']) {
      Object.defineProperty(stream, prop, { get: () => inner[prop] });
    }
    let onBeforeFirstWrite;
    Object.defineProperty(stream, '_onBeforeFirstWrite', { get: () => onBeforeFirstWrite, set: (v) => (onBeforeFirstWrite = v) });
    return stream;
  }

  take(chunk, callback) {
    const bytes = Buffer.from(chunk);
    if (this.prelude || this.contentType !== METADATA_PRELUDE_CONTENT_TYPE) {
      if (!this.prelude) this.emitPrelude({ statusCode: 200, headers: { 'content-type': this.contentType } });
      this.body(bytes);
    } else {
      this.head = Buffer.concat([this.head, bytes]);
      const at = this.head.indexOf(DELIMITER);
      if (at >= 0) {
        this.emitPrelude(JSON.parse(this.head.subarray(0, at).toString('utf8')));
        const rest = this.head.subarray(at + DELIMITER.length);
        if (rest.length > 0) this.body(rest);
      }
    }
    callback();
  }

  emitPrelude(prelude) {
    this.prelude = prelude;
    this.emit('prelude', prelude);
  }

  body(bytes) {
    this.chunks.push(bytes);
    this.emit('data', bytes);
  }

  pause() {
    this.paused = true;
  }

  resume() {
    this.paused = false;
    for (const next of this.pending.splice(0)) next();
  }

  /** The connection breaks: the runtime's request fails, as when the caller is gone. */
  hangUp() {
    this.transport.destroy(new Error('socket hang up'));
  }

  text() {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * Invokes a streaming handler the way the runtime does, and answers when the handler's promise
 * settles, with the response as the Lambda service received it.
 */
async function invokeStreaming(handler, event, context, response = new StreamedResponse()) {
  if (!isStreamingHandler(handler)) throw new Error('the handler is not wrapped in awslambda.streamifyResponse');
  await handler(event, response.stream, context);
  return response;
}

module.exports = { installRuntime, isStreamingHandler, invokeStreaming, StreamedResponse, METADATA_PRELUDE_CONTENT_TYPE };
