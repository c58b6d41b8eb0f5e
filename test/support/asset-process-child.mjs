// Loads a bundled Lambda asset on its own, as the Lambda runtime would, tells its parent it is
// ready, and then invokes its handler with each event the parent sends over the IPC channel,
// sending each result back. Started by asset-process.ts with child_process.fork.
import { pathToFileURL } from 'node:url';

const [assetFile] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(assetFile).href);
const context = { awsRequestId: 'asset-run', functionName: 'asset', getRemainingTimeInMillis: () => 29_000 };
process.on('message', async ({ id, event }) => {
  try {
    process.send({ id, result: await handler(event, context) });
  } catch (error) {
    process.send({ id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
process.send({ ready: true });
