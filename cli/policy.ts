type Json = unknown;

const isObject = (value: Json): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `policy set` merges a file over the policy in force: objects merge key by key, anything else in
 * the file replaces what was there, and what the file leaves out stays. So a file holding only
 * `{ "retry": { "baseDelayMs": 250 } }` changes the retry delay and nothing else.
 */
export function mergePolicy(current: Json, partial: Record<string, Json>): Record<string, Json> {
  const merged: Record<string, Json> = isObject(current) ? { ...current } : {};
  for (const [key, value] of Object.entries(partial)) {
    merged[key] = isObject(value) && isObject(merged[key]) ? mergePolicy(merged[key], value) : value;
  }
  return merged;
}
