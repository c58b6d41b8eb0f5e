/**
 * The product's vocabulary: operation types, providers, cohorts, modes and health components.
 * Shared by the Lambda code and the CDK constructs, so it imports nothing.
 */

export const OPERATIONS = [
  'emergency',
  'infrastructure',
  'meta-monitor',
  'implementation',
  'kiro-communication',
  'standard-analysis',
  'background',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export const PROVIDERS = ['bedrock', 'mcp'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const COHORTS = ['hybrid', 'control'] as const;
export type Cohort = (typeof COHORTS)[number];

export const ROUTING_MODES = ['auto', 'force-mcp', 'force-bedrock', 'emergency-only'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

export const COMPONENTS = [
  'direct-bedrock',
  'mcp-router',
  'intelligent-router',
  'hybrid-monitor',
  'bedrock-support',
] as const;
export type Component = (typeof COMPONENTS)[number];

export const HEALTH_STATUSES = ['healthy', 'degraded', 'unhealthy', 'unknown'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

