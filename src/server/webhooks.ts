// webhookURL delivery: each completed result item (and a task's error) is POSTed on its own to the
// task's webhookURL as the JSON the socket would carry, retried with backoff until a 2xx answer.
// Deliveries run beside the task, never hold it up, are bounded in number, and stop on close.
import type { Logger } from './logger.js';

/** Bounds of webhook delivery (part of the server's limits). */
export interface WebhookLimits {
  /** Time one POST may take. */
  readonly webhookTimeoutMs: number;
  /** POSTs per item before it is given up (the first one included). */
  readonly webhookAttempts: number;
  /** Deliveries in progress server-wide; beyond it new ones are dropped and logged. */
  readonly maxPendingWebhooks: number;
}

/** What happened to one delivery, for logs and tests. */
export type WebhookOutcome = { readonly delivered: true; readonly attempts: number } | { readonly delivered: false; readonly attempts: number; readonly reason: string };

export class WebhookSender {
  readonly #limits: WebhookLimits;
  readonly #logger: Logger;
  readonly #closing = new AbortController();
  readonly #pending = new Set<Promise<WebhookOutcome>>();
  /** Delay before retry n (1-based); tests shorten it. */
  readonly #retryDelayMs: (attempt: number) => number;

  constructor(limits: WebhookLimits, logger: Logger, retryDelayMs: (attempt: number) => number = (attempt) => 500 * 2 ** (attempt - 1)) {
    this.#limits = limits;
    this.#logger = logger;
    this.#retryDelayMs = retryDelayMs;
  }

  /** Deliveries still in progress. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Starts delivering `json` (an encoded server frame: `{"data":[item]}` or `{"errors":[item]}`)
   * to `url`. Resolves with the outcome; never rejects.
   */
  deliver(url: string, json: string): Promise<WebhookOutcome> {
    if (this.#closing.signal.aborted) return Promise.resolve({ delivered: false, attempts: 0, reason: 'server closing' });
    if (this.#pending.size >= this.#limits.maxPendingWebhooks) {
      this.#logger.warn('webhook dropped: too many deliveries in progress', { limit: this.#limits.maxPendingWebhooks });
      return Promise.resolve({ delivered: false, attempts: 0, reason: 'too many deliveries in progress' });
    }
    const delivery = this.#run(url, json);
    this.#pending.add(delivery);
    void delivery.finally(() => this.#pending.delete(delivery));
    return delivery;
  }

  async #run(url: string, json: string): Promise<WebhookOutcome> {
    let reason = '';
    for (let attempt = 1; attempt <= this.#limits.webhookAttempts; attempt++) {
      if (attempt > 1 && !(await this.#wait(this.#retryDelayMs(attempt - 1)))) return { delivered: false, attempts: attempt - 1, reason: 'server closing' };
      const signal = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.#limits.webhookTimeoutMs)]);
      try {
        const response = await fetch(url, { method: 'POST', body: json, headers: { 'content-type': 'application/json' }, signal });
        await response.body?.cancel().catch(() => undefined);
        if (response.ok) return { delivered: true, attempts: attempt };
        reason = `HTTP ${response.status}`;
      } catch (error) {
        if (this.#closing.signal.aborted) return { delivered: false, attempts: attempt, reason: 'server closing' };
        reason = signal.aborted ? `no answer within ${this.#limits.webhookTimeoutMs} ms` : error instanceof Error ? error.message : String(error);
      }
    }
    // The URL is the caller's own endpoint; only its origin is logged, since paths may carry secrets.
    this.#logger.warn('webhook not delivered', { origin: originOf(url), attempts: this.#limits.webhookAttempts, reason });
    return { delivered: false, attempts: this.#limits.webhookAttempts, reason };
  }

  /** Resolves true after `ms`, or false at once when the sender closes. */
  #wait(ms: number): Promise<boolean> {
    const signal = this.#closing.signal;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stops every delivery (in-flight POSTs are aborted) and resolves once all have ended. */
  async close(): Promise<void> {
    this.#closing.abort();
    await Promise.allSettled([...this.#pending]);
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid URL';
  }
}
