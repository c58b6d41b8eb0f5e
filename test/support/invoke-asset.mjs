// Loads a bundled Lambda asset on its own, as the Lambda runtime would, and invokes its handler
// with each event of a JSON file, writing the results to another. Usage:
//   node invoke-asset.mjs <asset index.mjs> <events.json> <results.json> [timeout ms]
// Each invocation's context counts down from the timeout (default 29 s), and an invocation still
// running at the timeout ends the run as Lambda would, reported as `Sandbox.Timedout`. A handler
// that throws gives `{ errorType, errorMessage }`, as the runtime reports it. An event
// `{ "__pauseMs": n }` is not an invocation: the container idles n ms, as between two requests.
// A response-streaming handler (awslambda.streamifyResponse) is invoked through the runtime shim,
// and its result is what the Lambda service received: `{ prelude, body }`.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const { installRuntime, invokeStreaming, isStreamingHandler } = require('./lambda-runtime.js');

// The runtime defines the `awslambda` global before it loads the handler module.
installRuntime();
const [assetFile, eventsFile, resultsFile, timeoutArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg ?? 29_000);
const { handler } = await import(pathToFileURL(assetFile).href);
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
const results = [];
for (const event of events) {
  if (typeof event?.__pauseMs === 'number') {
    await new Promise((resolve) => setTimeout(resolve, event.__pauseMs));
    results.push({ pausedMs: event.__pauseMs });
    continue;
  }
  const deadline = Date.now() + timeoutMs;
  const context = { awsRequestId: 'asset-run', functionName: 'asset', getRemainingTimeInMillis: () => deadline - Date.now() };
  const timedOut = Symbol('timed out');
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(timedOut), timeoutMs)));
  try {
    const invocation = isStreamingHandler(handler)
      ? invokeStreaming(handler, event, context).then((response) => ({ prelude: response.prelude, body: response.text() }))
      : handler(event, context);
    const result = await Promise.race([invocation, timeout]);
    if (result === timedOut) {
      results.push({ errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${timeoutMs} ms` });
      break;
    }
    results.push(result);
  } catch (error) {
    results.push({ errorType: error?.name ?? typeof error, errorMessage: error?.message ?? String(error) });
  } finally {
    clearTimeout(timer);
  }
}
writeFileSync(resultsFile, JSON.stringify(results));
// Keep-alive connections (MCP, SDK) would hold the process open; the run is over.
process.exit(0);
