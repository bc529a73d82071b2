// PUTs a task's finals to its uploadEndpoint one after another, outside the engine slot: a final is
// delivered only once its upload succeeded, so results still go out in index order, and the first
// failure stops the uploads after it and the engine.
import type { ImageFormat } from '../../engine/index.js';
import type { Logger } from '../logger.js';
import { imageMediaType } from '../../internal/bytes.js';
import { guardedRequest, originOf, OutboundFailure } from '../outbound/guarded-http.js';
import type { OutboundPolicy } from '../outbound/policy.js';
import { TaskFailure } from '../task-failure.js';
import type { Clock } from '../../internal/clock.js';

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

/** What {@link uploadResult} needs besides the image. */
export interface OneUpload {
  readonly timeoutMs: number;
  /** Times `timeoutMs` (the server's clock). */
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Which URLs and addresses the server may PUT to. */
  readonly outbound: OutboundPolicy;
  /** Hears why an upload failed; the client is only told that it did. */
  readonly logger: Logger;
}

/**
 * PUTs the image bytes to uploadEndpoint under the outbound policy (no redirects). Any failure ends
 * the task with `uploadFailed` and one message whatever the cause, so the answer tells nothing about
 * what listens at the address; the cause is logged with the endpoint's origin only.
 */
export async function uploadResult(endpoint: string, image: Uint8Array, format: ImageFormat, options: OneUpload): Promise<void> {
  try {
    await guardedRequest(endpoint, {
      kind: 'upload',
      method: 'PUT',
      policy: options.outbound,
      headers: { 'content-type': imageMediaType(format) },
      body: image,
      maxRedirects: 0,
      maxBodyBytes: 0,
      timeoutMs: options.timeoutMs,
      clock: options.clock,
      signal: options.signal,
    });
  } catch (error) {
    if (!(error instanceof OutboundFailure)) throw error;
    options.logger.warn('result not uploaded', { origin: originOf(endpoint), reason: error.message });
    throw new TaskFailure('uploadFailed', 'the image could not be uploaded to uploadEndpoint', { parameter: 'uploadEndpoint', type: 'string' });
  }
}
