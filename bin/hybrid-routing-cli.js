#!/usr/bin/env node
// The operator CLI. Its source is TypeScript under cli/, loaded through tsx.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// A reader that stops early (`| head`) closes the pipe: stop quietly, as Unix tools do, instead of
// dying with an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

require('tsx/cjs');
const { main } = require('../cli/main.ts');

main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
}).then((code) => {
  process.exitCode = code;
});
