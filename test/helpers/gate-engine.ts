// An engine for tests that need a task in flight: it wraps a real engine and holds each final
// until the test opens the gate, and records the abort signals it was given.
import type { Engine, EngineEvent, EngineRequest } from '../../src/engine/index.js';
import { createProceduralEngine } from '../../src/engine/index.js';

export interface GateEngine extends Engine {
  /** Lets `n` more finals through (server-wide). */
  open(n?: number): void;
  /** Lets every final through from now on. */
  openAll(): void;
  /** Resolves once `n` generations have started (counting from the engine's creation). */
  started(n: number): Promise<void>;
  /** Resolves once `n` finals are waiting at the gate. */
  waiting(n: number): Promise<void>;
  /** Signals of the generations, in start order. */
  readonly signals: AbortSignal[];
  /** Resolves once the generation with index `i` (start order) saw its signal abort. */
  aborted(i: number): Promise<void>;
}

/** Wraps `base` (default: the procedural engine without delays). */
export function createGateEngine(base: Engine = createProceduralEngine({ stepDelayMs: 0 })): GateEngine {
  let credits = 0;
  let all = false;
  let waitingCount = 0;
  const parked: (() => void)[] = [];
  const watchers = new Set<() => void>();
  const signals: AbortSignal[] = [];
  const notify = (): void => {
    for (const watcher of [...watchers]) watcher();
  };
  const until = (condition: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const watcher = (): void => {
        if (!condition()) return;
        watchers.delete(watcher);
        resolve();
      };
      watchers.add(watcher);
      watcher();
    });
  const release = (): void => {
    while (parked.length > 0 && (all || credits > 0)) {
      if (!all) credits--;
      parked.shift()?.();
    }
  };
  const gate = (signal: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (all || credits > 0) {
        if (!all) credits--;
        resolve();
        return;
      }
      waitingCount++;
      notify();
      const onAbort = (): void => {
        const index = parked.indexOf(go);
        if (index !== -1) parked.splice(index, 1);
        waitingCount--;
        reject(signal.reason);
      };
      const go = (): void => {
        signal.removeEventListener('abort', onAbort);
        waitingCount--;
        resolve();
      };
      parked.push(go);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  return {
    name: `gate(${base.name})`,
    models: () => base.models(),
    hasModel: (model) => base.hasModel(model),
    signals,
    async *generate(request: EngineRequest, options: { signal: AbortSignal }): AsyncGenerator<EngineEvent> {
      signals.push(options.signal);
      options.signal.addEventListener('abort', notify, { once: true });
      notify();
      for await (const event of base.generate(request, options)) {
        if (event.kind === 'final') await gate(options.signal);
        yield event;
      }
    },
    open(n = 1) {
      credits += n;
      release();
    },
    openAll() {
      all = true;
      release();
    },
    started: (n) => until(() => signals.length >= n),
    waiting: (n) => until(() => waitingCount >= n),
    aborted: (i) => until(() => signals[i]?.aborted === true),
  };
}
