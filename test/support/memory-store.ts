import type { ParameterVersion } from '../../lambda/core/audit';
import type { LatchStore, StoreSnapshot } from '../../lambda/core/rollback-latch';
import { DEFAULT_PARAMETER_VALUES, parseRoutingConfig } from '../../lambda/shared/routing-config';

/** The configuration store in memory, with versions and history, and a hook after each write. */
export class MemoryStore implements LatchStore {
  readonly versions = new Map<string, ParameterVersion[]>();
  afterPut: (name: string, value: string) => void = () => undefined;
  failPut: string | undefined;

  constructor(values: Record<string, string>) {
    for (const [name, value] of Object.entries({ ...DEFAULT_PARAMETER_VALUES, ...values })) this.set(name, value, 'seeded');
  }

  set(name: string, value: string, description: string): number {
    const list = this.versions.get(name) ?? [];
    list.push({ name, version: list.length + 1, value, description, modifiedAt: new Date(), modifiedBy: 'test' });
    this.versions.set(name, list);
    return list.length;
  }

  value(name: string): string | undefined {
    return this.versions.get(name)?.at(-1)?.value;
  }

  async read(): Promise<StoreSnapshot> {
    const values = Object.fromEntries([...this.versions].map(([name, list]) => [name, list.at(-1)!.value]));
    const versions = Object.fromEntries([...this.versions].map(([name, list]) => [name, list.length]));
    return { ...parseRoutingConfig(values), values, versions };
  }

  async put(name: string, value: string, description: string): Promise<number> {
    if (this.failPut === name) throw Object.assign(new Error('injected'), { name: 'InternalServerError' });
    const version = this.set(name, value, description);
    this.afterPut(name, value);
    return version;
  }

  async history(name: string): Promise<readonly ParameterVersion[]> {
    return this.versions.get(name) ?? [];
  }
}
