// Loads a bundled Lambda asset on its own, as the Lambda runtime would, and invokes its handler
// with each event of a JSON file, writing the results to another. Usage:
//   node invoke-asset.mjs <asset index.mjs> <events.json> <results.json>
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [assetFile, eventsFile, resultsFile] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(assetFile).href);
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
const context = {
  awsRequestId: 'asset-run',
  functionName: 'asset',
  getRemainingTimeInMillis: () => 29_000,
};
const results = [];
for (const event of events) results.push(await handler(event, context));
writeFileSync(resultsFile, JSON.stringify(results));
// Keep-alive connections (MCP, SDK) would hold the process open; the run is over.
process.exit(0);
