// PUTs a task's finals to its uploadEndpoint one after another, outside the engine slot: a final is
// delivered only once its upload succeeded, so results still go out in index order, and the first
// failure stops the uploads after it and the engine.
import type { ImageFormat } from '../engine/index.js';
import { uploadResult, type UploadOptions as OneUpload } from './outputs.js';

/** What every upload of a task shares: its deadline and the outbound rules it goes by. */
export type UploadOptions = Omit<OneUpload, 'signal'>;

/** The uploads of one task's finals. */
export class FinalUploads {
  readonly #endpoint: string;
  readonly #options: UploadOptions;
  /** Aborted with the first failure (or the task's abort): the engine's signal follows it. */
  readonly #stop = new AbortController();
  /** The task's signal or the stop: an upload in progress ends with either. */
  readonly #signal: AbortSignal;
  #chain: Promise<void> = Promise.resolve();

  constructor(endpoint: string, taskSignal: AbortSignal, options: UploadOptions) {
    this.#endpoint = endpoint;
    this.#options = options;
    this.#signal = AbortSignal.any([taskSignal, this.#stop.signal]);
  }

  /** Aborts, with the failure as its reason, once an upload failed or the uploads were stopped. */
  get stopped(): AbortSignal {
    return this.#stop.signal;
  }

  /** Uploads `image` after every earlier one, then calls `deliver` (only if all of them succeeded). */
  push(image: Uint8Array, format: ImageFormat, deliver: () => void): void {
    this.#chain = this.#chain.then(async () => {
      await uploadResult(this.#endpoint, image, format, { ...this.#options, signal: this.#signal });
      deliver();
    });
    // The failure is also read by done(); this handler stops the rest and the engine at once.
    this.#chain.catch((error: unknown) => this.stop(error));
  }

  /** Stops the uploads (the engine failed, or an upload did): the one in progress is aborted. */
  stop(reason: unknown): void {
    if (!this.#stop.signal.aborted) this.#stop.abort(reason);
  }

  /** Resolves once every upload pushed so far succeeded; rejects with the first failure. */
  done(): Promise<void> {
    return this.#chain;
  }
}
