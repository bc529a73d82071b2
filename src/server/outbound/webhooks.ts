// webhookURL delivery: each completed result item (and a task's error) is POSTed on its own to the
// task's webhookURL as the JSON the socket would carry, retried with backoff until a 2xx answer.
// Deliveries run beside the task, never hold it up, go only where the outbound policy allows, are
// bounded server-wide and per key (one key never pushes out another's), and stop on close.
import type { Clock } from '../../internal/clock.js';
import { Disposer } from '../../internal/disposer.js';
import { guardedRequest, originOf, OutboundFailure } from './guarded-http.js';
import type { Logger } from '../logger.js';
import type { OutboundPolicy } from './policy.js';

/** Bounds of webhook delivery (part of the server's limits). */
export interface WebhookLimits {
  /** Time one POST may take. */
  readonly webhookTimeoutMs: number;
  /** POSTs per item before it is given up (the first one included). */
  readonly webhookAttempts: number;
  /** Deliveries in progress server-wide. */
  readonly maxPendingWebhooks: number;
  /** Deliveries in progress for one key; beyond it that key's new ones are dropped and logged. */
  readonly maxPendingWebhooksPerKey: number;
}

/** What happened to one delivery, for logs and tests. */
export type WebhookOutcome = { readonly delivered: true; readonly attempts: number } | { readonly delivered: false; readonly attempts: number; readonly reason: string };

/** One delivery in progress. */
interface Delivery {
  readonly owner: string;
  /** Aborts this delivery alone (when a key under its share needs its place). */
  readonly controller: AbortController;
}

/** What a {@link WebhookSender} is built from. */
export interface WebhookSenderOptions {
  readonly limits: WebhookLimits;
  readonly logger: Logger;
  readonly policy: OutboundPolicy;
  /** Times the retries and each POST's deadline. */
  readonly clock: Clock;
  /** Delay before retry n (1-based). @default 500 ms, doubling */
  readonly retryDelayMs?: (attempt: number) => number;
}

/** Why a delivery stopped early; the reason is its outcome's. */
class DeliveryStopped extends Error {}

export class WebhookSender {
  readonly #limits: WebhookLimits;
  readonly #logger: Logger;
  readonly #policy: OutboundPolicy;
  readonly #closing = new AbortController();
  readonly #pending = new Set<Promise<WebhookOutcome>>();
  /** Deliveries in progress by owner, oldest first (a Set keeps insertion order). */
  readonly #byOwner = new Map<string, Set<Delivery>>();
  #count = 0;
  readonly #retryDelayMs: (attempt: number) => number;
  readonly #clock: Clock;
  /** Owns the retry waits; close() disposes it. */
  readonly #timers = new Disposer();

  constructor(options: WebhookSenderOptions) {
    this.#limits = options.limits;
    this.#logger = options.logger;
    this.#policy = options.policy;
    this.#clock = options.clock;
    this.#retryDelayMs = options.retryDelayMs ?? ((attempt) => 500 * 2 ** (attempt - 1));
  }

  /** Deliveries still in progress. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Deliveries in progress for `owner`. */
  pendingFor(owner: string): number {
    return this.#byOwner.get(owner)?.size ?? 0;
  }

  /**
   * Starts a delivery nobody waits for (a task's result or error): {@link deliver} without its
   * outcome, which the sender tracks and logs itself.
   */
  send(url: string, json: string, owner: string): void {
    this.deliver(url, json, owner).catch((error: unknown) => this.#logger.error('webhook delivery failed unexpectedly', { origin: originOf(url), error: error instanceof Error ? error.message : 'unknown error' }));
  }

  /**
   * Starts delivering `json` (an encoded server frame: `{"data":[item]}` or `{"errors":[item]}`)
   * to `url` for `owner` (the key digest of the task). A key at its share has its new delivery
   * dropped; when the server-wide bound is full, a key under its share takes the place of the oldest
   * delivery of the key holding the most. Resolves with the outcome; never rejects.
   */
  deliver(url: string, json: string, owner: string): Promise<WebhookOutcome> {
    if (this.#closing.signal.aborted) return Promise.resolve({ delivered: false, attempts: 0, reason: 'server closing' });
    const own = this.pendingFor(owner);
    if (own >= this.#limits.maxPendingWebhooksPerKey) {
      this.#logger.warn('webhook dropped: this key has too many deliveries in progress', { limit: this.#limits.maxPendingWebhooksPerKey, origin: originOf(url) });
      return Promise.resolve({ delivered: false, attempts: 0, reason: 'too many deliveries in progress for this key' });
    }
    if (this.#count >= this.#limits.maxPendingWebhooks && !this.#evictFor(owner, own)) {
      this.#logger.warn('webhook dropped: too many deliveries in progress', { limit: this.#limits.maxPendingWebhooks, origin: originOf(url) });
      return Promise.resolve({ delivered: false, attempts: 0, reason: 'too many deliveries in progress' });
    }
    const entry: Delivery = { owner, controller: new AbortController() };
    let deliveries = this.#byOwner.get(owner);
    if (deliveries === undefined) this.#byOwner.set(owner, (deliveries = new Set()));
    deliveries.add(entry);
    this.#count++;
    const delivery = this.#run(url, json, entry.controller.signal).finally(() => this.#forget(entry));
    this.#pending.add(delivery);
    // #run never rejects; the second handler only keeps the set right if that ever changes.
    const settled = (): void => void this.#pending.delete(delivery);
    delivery.then(settled, settled);
    return delivery;
  }

  /**
   * Makes room for a key holding `own` deliveries: aborts the oldest delivery of the key holding the
   * most (the asker itself on a tie, so it never evicts a key holding no more than it). False when
   * nothing can go (a bound of 0).
   */
  #evictFor(owner: string, own: number): boolean {
    let victim: Set<Delivery> | undefined = own > 0 ? this.#byOwner.get(owner) : undefined;
    let most = own;
    for (const [other, deliveries] of this.#byOwner) {
      if (other !== owner && deliveries.size > most) {
        victim = deliveries;
        most = deliveries.size;
      }
    }
    const oldest = victim?.values().next().value;
    if (oldest === undefined) return false;
    this.#forget(oldest);
    oldest.controller.abort(new DeliveryStopped('evicted: a key under its share needed the place'));
    this.#logger.warn('webhook delivery aborted: a key under its share needed its place', { limit: this.#limits.maxPendingWebhooks });
    return true;
  }

  /** Takes a delivery off the books; idempotent (an evicted one is forgotten before it ends). */
  #forget(entry: Delivery): void {
    const deliveries = this.#byOwner.get(entry.owner);
    if (deliveries?.delete(entry) !== true) return;
    this.#count--;
    if (deliveries.size === 0) this.#byOwner.delete(entry.owner);
  }

  /** The reason a stopped delivery reports. */
  #stopReason(signal: AbortSignal): string {
    return signal.reason instanceof DeliveryStopped ? signal.reason.message : 'server closing';
  }

  async #run(url: string, json: string, evicted: AbortSignal): Promise<WebhookOutcome> {
    const signal = AbortSignal.any([this.#closing.signal, evicted]);
    let reason = '';
    let attempts = 0;
    for (let attempt = 1; attempt <= this.#limits.webhookAttempts; attempt++) {
      if (attempt > 1 && !(await this.#wait(this.#retryDelayMs(attempt - 1), signal))) return { delivered: false, attempts: attempt - 1, reason: this.#stopReason(signal) };
      attempts = attempt;
      try {
        await guardedRequest(url, {
          kind: 'webhook',
          method: 'POST',
          policy: this.#policy,
          headers: { 'content-type': 'application/json' },
          body: json,
          maxRedirects: 0,
          maxBodyBytes: 0,
          timeoutMs: this.#limits.webhookTimeoutMs,
          clock: this.#clock,
          signal,
        });
        return { delivered: true, attempts: attempt };
      } catch (error) {
        if (signal.aborted) return { delivered: false, attempts: attempt, reason: this.#stopReason(signal) };
        reason = error instanceof Error ? error.message : String(error);
        // The policy's answer does not change by asking again.
        if (error instanceof OutboundFailure && error.refused) break;
      }
    }
    // The URL is the caller's own endpoint; only its origin is logged, since paths may carry secrets.
    this.#logger.warn('webhook not delivered', { origin: originOf(url), attempts, reason });
    return { delivered: false, attempts, reason };
  }

  /** Resolves true after `ms`, or false at once when `signal` aborts. */
  #wait(ms: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve(false);
        return;
      }
      const onAbort = (): void => {
        cancel();
        resolve(false);
      };
      const cancel = this.#timers.timeout(this.#clock, ms, () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stops every delivery (in-flight POSTs are aborted) and resolves once all have ended. */
  async close(): Promise<void> {
    this.#closing.abort();
    await Promise.allSettled([...this.#pending]);
    this.#timers.dispose();
  }
}
