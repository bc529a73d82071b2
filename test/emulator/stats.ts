// Counters of what the emulator saw and did, for tests to assert on (a task never run twice,
// results lost by a fault, sockets left open). Cumulative across restarts unless noted.

/** A snapshot of the emulator's counters. */
export interface RunwareEmulatorStats {
  /** Sockets open now (half-open ones included). */
  readonly socketsOpen: number;
  /** Sockets accepted since start. */
  readonly socketsTotal: number;
  /** Sessions alive now (attached to a socket or waiting in their resume window); reset by a restart. */
  readonly sessions: number;
  /** Sessions created since start. */
  readonly sessionsCreated: number;
  /** Authentications that resumed a live session. */
  readonly sessionsResumed: number;
  /** Task objects received per taskUUID (every task type that carries one, accepted or not). */
  readonly tasksReceived: ReadonlyMap<string, number>;
  /** imageInference tasks accepted (run) per taskUUID: more than 1 means the same task ran twice. */
  readonly inferencesAccepted: ReadonlyMap<string, number>;
  /** Result frames / result items written to sockets (a frame held back by a fault counts once it is written). */
  readonly resultFramesWritten: number;
  readonly resultsWritten: number;
  /** Result items that went into a session's resume buffer, and those later written from it. */
  readonly resultsBuffered: number;
  readonly resultsReplayed: number;
  /** Result items lost by faults (a held frame discarded at a drop, or a buffer forgotten by a restart). */
  readonly resultsLost: number;
  /** Result items whose session's resume window ran out before anyone resumed it. */
  readonly resultsExpired: number;
  /** Client frames discarded because their socket was half-open. */
  readonly clientFramesLost: number;
  /** Restarts since start. */
  readonly restarts: number;
}

type Counter = Exclude<keyof RunwareEmulatorStats, 'socketsOpen' | 'sessions' | 'tasksReceived' | 'inferencesAccepted'>;

/** The mutable side of the counters. */
export class Stats {
  readonly #counters: Record<Counter, number> = {
    socketsTotal: 0,
    sessionsCreated: 0,
    sessionsResumed: 0,
    resultFramesWritten: 0,
    resultsWritten: 0,
    resultsBuffered: 0,
    resultsReplayed: 0,
    resultsLost: 0,
    resultsExpired: 0,
    clientFramesLost: 0,
    restarts: 0,
  };
  readonly #received = new Map<string, number>();
  readonly #accepted = new Map<string, number>();

  add(counter: Counter, n = 1): void {
    this.#counters[counter] += n;
  }

  taskReceived(taskUUID: string): void {
    this.#received.set(taskUUID, (this.#received.get(taskUUID) ?? 0) + 1);
  }

  inferenceAccepted(taskUUID: string): void {
    this.#accepted.set(taskUUID, (this.#accepted.get(taskUUID) ?? 0) + 1);
  }

  snapshot(live: { socketsOpen: number; sessions: number }): RunwareEmulatorStats {
    return { ...this.#counters, ...live, tasksReceived: new Map(this.#received), inferencesAccepted: new Map(this.#accepted) };
  }
}
