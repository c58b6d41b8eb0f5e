import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { FunctionAsset } from './assets';

/**
 * A bundled function from the cloud assembly, loaded once in its own Node process, configured only
 * by its template environment plus `env`, and invoked event by event. The test process keeps the
 * fakes (and their gates), so it can hold this process's requests while another one runs.
 */
export class AssetProcess {
  /** What the function wrote to stdout and stderr (logs and EMF), line by line. */
  readonly output: string[] = [];
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 0;

  private constructor(private readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => this.output.push(...chunk.split('\n').filter((l) => l.trim() !== '')));
    }
    child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
  }

  /** Starts the function and resolves once its module has loaded. */
  static async start(asset: FunctionAsset, env: Record<string, string>): Promise<AssetProcess> {
    const child = fork(path.join(__dirname, 'asset-process-child.mjs'), [asset.file], {
      env: { PATH: process.env.PATH, ...asset.environment, ...env },
      silent: true,
    });
    const started = new AssetProcess(child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`${asset.file} exited with ${code} before it was ready:\n${started.output.join('\n')}`)));
    });
    return started;
  }

  invoke<T = unknown>(event: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, event });
    });
  }

  /** The EMF documents it emitted, each as its metric names and dimension values. */
  emf(): { metrics: string[]; dimensions: Record<string, string> }[] {
    return this.output.flatMap((line) => {
      try {
        const doc = JSON.parse(line) as Record<string, any>;
        const directive = doc._aws?.CloudWatchMetrics?.[0];
        if (!directive) return [];
        return [{ metrics: directive.Metrics.map((m: { Name: string }) => m.Name), dimensions: Object.fromEntries((directive.Dimensions as string[][]).flat().map((d) => [d, String(doc[d])])) }];
      } catch {
        return [];
      }
    });
  }

  stop(): void {
    this.child.kill();
  }
}
