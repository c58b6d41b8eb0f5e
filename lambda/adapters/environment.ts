/** Reads a required environment variable once, failing with its name when it is missing. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`environment variable ${name} is required but not set`);
  }
  return value;
}

/** Reads a positive number from the environment, or `fallback` when the variable is not set. */
export function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`environment variable ${name} must be a positive number, got "${raw}"`);
  }
  return value;
}
