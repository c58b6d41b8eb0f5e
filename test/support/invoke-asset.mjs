// Loads a bundled Lambda asset on its own, as the Lambda runtime would, and invokes its handler
// with each event of a JSON file, writing the results to another. Usage:
//   node invoke-asset.mjs <asset index.mjs> <events.json> <results.json>
// A response-streaming handler (awslambda.streamifyResponse) is invoked through the runtime shim,
// and its result is what the Lambda service received: `{ prelude, body }`.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const { installRuntime, invokeStreaming, isStreamingHandler } = require('./lambda-runtime.js');

const [assetFile, eventsFile, resultsFile] = process.argv.slice(2);
// The runtime defines the `awslambda` global before it loads the handler module.
installRuntime();
const { handler } = await import(pathToFileURL(assetFile).href);
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
const context = {
  awsRequestId: 'asset-run',
  functionName: 'asset',
  getRemainingTimeInMillis: () => 29_000,
};
const results = [];
for (const event of events) {
  if (isStreamingHandler(handler)) {
    const response = await invokeStreaming(handler, event, context);
    results.push({ prelude: response.prelude, body: response.text() });
  } else {
    results.push(await handler(event, context));
  }
}
writeFileSync(resultsFile, JSON.stringify(results));
// Keep-alive connections (MCP, SDK) would hold the process open; the run is over.
process.exit(0);
