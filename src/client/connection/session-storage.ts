// The connectionSessionUUID to resume with, optionally kept in a Storage (sessionStorage in a
// browser) so a page reload inside the resume window still collects the session's results.

/** The part of the Web Storage API the client uses (`window.sessionStorage` fits). */
export interface SessionStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Remembers the session to resume. Storage failures (quota, privacy mode) are ignored. */
export class SessionUuidStorage {
  readonly #storage: SessionStorageLike | undefined;
  readonly #key: string;
  #uuid: string | undefined;

  constructor(storage: SessionStorageLike | undefined, key: string) {
    this.#storage = storage;
    this.#key = key;
    try {
      this.#uuid = storage?.getItem(key) ?? undefined;
    } catch {
      this.#uuid = undefined;
    }
  }

  /** The session UUID to send on the next authentication, if any. */
  get uuid(): string | undefined {
    return this.#uuid;
  }

  set(uuid: string): void {
    if (this.#uuid === uuid) return;
    this.#uuid = uuid;
    try {
      this.#storage?.setItem(this.#key, uuid);
    } catch {
      // Keeping it in memory is enough for reconnects; only reloads lose it.
    }
  }

  clear(): void {
    this.#uuid = undefined;
    try {
      this.#storage?.removeItem(this.#key);
    } catch {
      // As above.
    }
  }
}
