import { PROVIDERS, type Provider } from '../shared/vocabulary';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerSettings {
  readonly failureThreshold: number;
  readonly coolDownMs: number;
}

/**
 * One provider's breaker in one container. Closed lets everything through; `failureThreshold`
 * consecutive failures open it; after `coolDownMs` it is half-open and lets exactly one trial
 * request through, whose result closes or re-opens it.
 */
export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(private readonly clock: () => number) {}

  state(settings: BreakerSettings): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return this.clock() - this.openedAt >= settings.coolDownMs ? 'half-open' : 'open';
  }

  /** Milliseconds until an open breaker lets a trial through; 0 when not open. */
  msUntilTrial(settings: BreakerSettings): number {
    if (this.openedAt === undefined) return 0;
    return Math.max(0, this.openedAt + settings.coolDownMs - this.clock());
  }

  /** Asks to send one request. Every `true` must be followed by exactly one `record*` or `release`. */
  tryAcquire(settings: BreakerSettings): boolean {
    const state = this.state(settings);
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  /** Counts a failure; returns true when this failure opened the breaker. */
  recordFailure(settings: BreakerSettings): boolean {
    const wasTrial = this.trialInFlight;
    this.trialInFlight = false;
    this.consecutiveFailures += 1;
    if (wasTrial || (this.openedAt === undefined && this.consecutiveFailures >= settings.failureThreshold)) {
      this.openedAt = this.clock();
      return true;
    }
    return false;
  }

  /** Gives back an acquired slot without counting a result (a client error says nothing of health). */
  release(): void {
    this.trialInFlight = false;
  }

  reset(): void {
    this.consecutiveFailures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }
}

/** The breakers of one container, one per provider, closed together when the epoch changes. */
export class CircuitBreakers {
  private readonly breakers: Record<Provider, CircuitBreaker>;
  private epoch: number | undefined;

  constructor(clock: () => number) {
    this.breakers = Object.fromEntries(PROVIDERS.map((p) => [p, new CircuitBreaker(clock)])) as Record<
      Provider,
      CircuitBreaker
    >;
  }

  of(provider: Provider): CircuitBreaker {
    return this.breakers[provider];
  }

  /** Closes every breaker when `epoch` differs from the one last seen; returns whether it did. */
  syncEpoch(epoch: number): boolean {
    const changed = this.epoch !== undefined && this.epoch !== epoch;
    this.epoch = epoch;
    if (changed) for (const breaker of Object.values(this.breakers)) breaker.reset();
    return changed;
  }

  states(settings: BreakerSettings): Record<Provider, BreakerState> {
    return Object.fromEntries(PROVIDERS.map((p) => [p, this.breakers[p].state(settings)])) as Record<
      Provider,
      BreakerState
    >;
  }
}
