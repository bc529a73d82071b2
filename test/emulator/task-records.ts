// Task records per API key: what `conflictTaskUUID` and `getResponse` know. A record lives while its
// task runs and `retentionMs` after it ends; a restart forgets them all.

/** A result item as it went (or would go) to the client. */
export type ResultItem = Readonly<Record<string, unknown>> & { readonly taskType: string; readonly taskUUID: string };

type RecordState = { readonly name: 'running'; readonly stop: () => void } | { readonly name: 'succeeded' } | { readonly name: 'failed'; readonly error: { readonly code: string; readonly message: string } };

/** One task of one key. */
export class TaskRecord {
  readonly taskType: string;
  readonly taskUUID: string;
  readonly #items: ResultItem[] = [];
  #state: RecordState;

  constructor(taskType: string, taskUUID: string, stop: () => void) {
    this.taskType = taskType;
    this.taskUUID = taskUUID;
    this.#state = { name: 'running', stop };
  }

  get running(): boolean {
    return this.#state.name === 'running';
  }

  addItem(item: ResultItem): void {
    this.#items.push(item);
  }

  /** The `getResponse` answer: every result so far with `status:"success"`, then a processing or error item. */
  responseItems(): ResultItem[] {
    const identity = { taskType: this.taskType, taskUUID: this.taskUUID };
    const done = this.#items.map(({ taskType, taskUUID, ...rest }) => ({ taskType, taskUUID, status: 'success', ...rest }));
    switch (this.#state.name) {
      case 'running':
        return [...done, { ...identity, status: 'processing' }];
      case 'failed':
        return [...done, { ...identity, status: 'error', error: { code: this.#state.error.code, message: this.#state.error.message } }];
      case 'succeeded':
        return done;
    }
  }

  /** Ends the task; false when it had already ended. */
  end(outcome: { readonly code: string; readonly message: string } | undefined): boolean {
    if (this.#state.name !== 'running') return false;
    this.#state = outcome === undefined ? { name: 'succeeded' } : { name: 'failed', error: outcome };
    return true;
  }

  /** Stops a running task's work (a restart or close); the record is dropped by the caller. */
  stop(): void {
    if (this.#state.name === 'running') this.#state.stop();
  }
}

/** Records by key then taskUUID, each forgotten `retentionMs` after it ends. */
export class TaskRecords {
  readonly #byKey = new Map<string, Map<string, TaskRecord>>();
  readonly #expiries = new Map<TaskRecord, NodeJS.Timeout>();
  #retentionMs: number;

  constructor(retentionMs: number) {
    this.#retentionMs = retentionMs;
  }

  get(apiKey: string, taskUUID: string): TaskRecord | undefined {
    return this.#byKey.get(apiKey)?.get(taskUUID);
  }

  /** Records a new task; the caller checked for a conflict first. */
  add(apiKey: string, record: TaskRecord): void {
    let records = this.#byKey.get(apiKey);
    if (records === undefined) {
      records = new Map();
      this.#byKey.set(apiKey, records);
    }
    records.set(record.taskUUID, record);
  }

  /** Ends a task and starts its retention clock. */
  end(apiKey: string, record: TaskRecord, outcome?: { readonly code: string; readonly message: string }): void {
    if (!record.end(outcome)) return;
    const expiry = setTimeout(() => {
      this.#expiries.delete(record);
      const records = this.#byKey.get(apiKey);
      if (records?.get(record.taskUUID) === record) records.delete(record.taskUUID);
      if (records?.size === 0) this.#byKey.delete(apiKey);
    }, this.#retentionMs);
    expiry.unref();
    this.#expiries.set(record, expiry);
  }

  /** Forgets every record, stopping running tasks (restart, close). */
  clear(): void {
    for (const records of this.#byKey.values()) for (const record of records.values()) record.stop();
    for (const expiry of this.#expiries.values()) clearTimeout(expiry);
    this.#byKey.clear();
    this.#expiries.clear();
  }

  setRetention(retentionMs: number): void {
    this.#retentionMs = retentionMs;
  }
}
