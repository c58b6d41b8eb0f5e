/**
 * Stands in for `ajv` and `ajv-formats` in Lambda bundles. The MCP client imports ajv statically
 * but only constructs it when no JSON schema validator is given; our functions always give
 * `CfWorkerJsonSchemaValidator`, which keeps 130 kB of ajv out of the bundle. If a future SDK
 * constructs ajv anyway, this fails loudly instead of silently skipping validation.
 */
export default function ajvNotBundled(): never {
  throw new Error('ajv is not bundled into this function; pass the MCP client a jsonSchemaValidator');
}
