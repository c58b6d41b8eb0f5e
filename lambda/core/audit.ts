/** One stored version of a parameter, as SSM's parameter history returns it. */
export interface ParameterVersion {
  /** Relative to the environment path. */
  readonly name: string;
  readonly version: number;
  readonly value: string;
  readonly description: string;
  readonly modifiedAt: Date;
  /** The IAM principal that made the SSM call. */
  readonly modifiedBy: string;
}

export interface AuditEntry {
  readonly parameter: string;
  readonly version: number;
  readonly oldValue: string | null;
  readonly newValue: string;
  readonly reason: string;
  readonly who: string;
  readonly at: string;
}

const ATTRIBUTION = /^(.*) \[by (.+)\]$/s;

/**
 * A write's description: the reason, and who asked for it when that is not the principal making
 * the SSM call (the admin function writes on behalf of an operator).
 */
export function describeChange(reason: string, requestedBy?: string): string {
  return requestedBy ? `${reason} [by ${requestedBy}]` : reason;
}

/** Reads a description back into reason and requester. */
export function parseDescription(description: string): { reason: string; requestedBy?: string } {
  const match = ATTRIBUTION.exec(description);
  return match ? { reason: match[1]!, requestedBy: match[2]! } : { reason: description };
}

/**
 * Every change of every parameter, newest first: each version with the value before it, the
 * reason from its description, and who asked (the requester named in the description, or else
 * the principal that wrote it).
 */
export function auditTrail(histories: readonly (readonly ParameterVersion[])[], limit: number): AuditEntry[] {
  const entries: (AuditEntry & { sortKey: number })[] = [];
  for (const history of histories) {
    const ordered = [...history].sort((a, b) => a.version - b.version);
    ordered.forEach((version, index) => {
      const { reason, requestedBy } = parseDescription(version.description);
      entries.push({
        parameter: version.name,
        version: version.version,
        oldValue: index > 0 ? ordered[index - 1]!.value : null,
        newValue: version.value,
        reason,
        who: requestedBy ?? version.modifiedBy,
        at: version.modifiedAt.toISOString(),
        sortKey: version.modifiedAt.getTime(),
      });
    });
  }
  entries.sort((a, b) => b.sortKey - a.sortKey || b.version - a.version || a.parameter.localeCompare(b.parameter));
  return entries.slice(0, limit).map(({ sortKey: _sortKey, ...entry }) => entry);
}
