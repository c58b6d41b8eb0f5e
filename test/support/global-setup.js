// One directory per test run for synthesized cloud assemblies (see test/support/assets.ts), so
// the integration tests that run bundled assets share one synthesis per environment.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

module.exports = async () => {
  process.env.HYBRID_ROUTING_ASSET_CACHE = mkdtempSync(path.join(tmpdir(), 'hybrid-routing-test-assets-'));
};
