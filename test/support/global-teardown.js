const { rmSync } = require('node:fs');

module.exports = async () => {
  const cache = process.env.HYBRID_ROUTING_ASSET_CACHE;
  if (cache) rmSync(cache, { recursive: true, force: true });
};
