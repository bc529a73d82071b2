// An imageInference task: previews (only when asked for, latest-wins per result index) and final
// images delivered exactly once, deduplicated by result index (or imageUUID where a server sends
// no index) and recorded as delivered before any user code sees them.
import type { BinaryResultHeader, ImageInferenceTask, ServerDataItem } from '../../protocol/index.js';
import { ApiError } from '../errors.js';
import { ImageResult } from '../image-result.js';
import type { ImageInferenceEvent } from './requests.js';
import { TaskRun, type ServerView } from './task-run.js';

const IMAGE_FIELDS = ['imageUUID', 'imageURL', 'imageBase64Data', 'imageDataURI'] as const;

function wholeNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** The error an item with `status: "error"` carries. */
export function itemError(item: ServerDataItem): ApiError {
  const error = typeof item.error === 'object' && item.error !== null ? (item.error as Record<string, unknown>) : {};
  return new ApiError({
    code: typeof error.code === 'string' ? error.code : 'taskFailed',
    message: typeof error.message === 'string' ? error.message : 'the task failed',
    taskType: item.taskType,
    ...(item.taskUUID === undefined ? {} : { taskUUID: item.taskUUID }),
  });
}

/** One imageInference task. */
export class ImageInferenceRun extends TaskRun<ImageInferenceEvent, ImageResult[]> {
  /** The task as sent; let go when it ends (only a running task is written again). */
  #task: ImageInferenceTask | undefined;
  readonly #async: boolean;
  readonly #wanted: number;
  readonly #previews: boolean;
  /** Bit i: the final of index i (< 31) was delivered; the common case needs no Set. */
  #seenIndices = 0;
  /** Delivered finals not in the bits: `i<index>` for larger indices, `u<imageUUID>` for finals without one. */
  #seenKeys: Set<string> | undefined;
  /** The finals delivered so far; handed over as the result once the task completes. */
  #finals: ImageResult[] | undefined;
  #delivered = 0;
  #duplicates = 0;

  constructor(task: ImageInferenceTask) {
    super(task.taskUUID, 'imageInference');
    this.#task = task;
    this.#async = task.deliveryMethod === 'async';
    this.#wanted = task.numberResults ?? 1;
    this.#previews = task.previews !== undefined && task.previews !== false;
  }

  /** Results arrive through getResponse polling only (`deliveryMethod: "async"`). */
  override get async(): boolean {
    return this.#async;
  }

  /** Finals that arrived again (a replay, a resend's second run, a poll) and were dropped. */
  override get duplicates(): number {
    return this.#duplicates;
  }

  wireTask(server: ServerView): ImageInferenceTask {
    const task = this.#task;
    // The dispatcher writes only open tasks; an ended one has no frame to write.
    if (task === undefined) throw new Error(`task ${this.taskUUID} has ended and is not written again`);
    // The task is never changed after it was built, so it goes out as it is.
    if (task.previews === undefined || server.previews) return task;
    // A server without the previews extension would refuse the unknown field.
    const { previews: _previews, ...rest } = task;
    return rest;
  }

  protected override release(): void {
    this.#task = undefined;
    this.#seenKeys = undefined;
  }

  handleItem(item: ServerDataItem): void {
    if (this.ended) return;
    if (item.preview === true) {
      this.#preview(item);
      return;
    }
    if (item.status === 'error') {
      this.fail(itemError(item));
      return;
    }
    if (item.status === 'processing') return;
    for (const field of IMAGE_FIELDS) {
      if (typeof item[field] !== 'string') continue;
      this.#final(item, undefined);
      return;
    }
  }

  override handleBinary(header: BinaryResultHeader, image: Uint8Array): void {
    if (!this.ended) this.#final(header, image);
  }

  override serverDone(): void {
    if (!this.ended) this.complete(this.#sorted());
  }

  #preview(item: ServerDataItem): void {
    if (!this.#previews) return;
    const index = wholeNumber(item.index) ?? 0;
    // A preview after its final (a late or replayed frame) is stale.
    if (this.#seen(index)) return;
    const step = wholeNumber(item.step) ?? 0;
    const steps = wholeNumber(item.steps) ?? 0;
    this.buffer.pushLatest(index, { type: 'preview', taskUUID: this.taskUUID, index, step, steps, image: new ImageResult(item, index) });
  }

  #final(item: ServerDataItem, bytes: Uint8Array | undefined): void {
    const given = wholeNumber(item.index);
    const uuidKey = given === undefined && typeof item.imageUUID === 'string' ? `u${item.imageUUID}` : undefined;
    if (given !== undefined ? this.#seen(given) : uuidKey !== undefined && this.#seenKeys?.has(uuidKey) === true) {
      this.#duplicates++;
      return;
    }
    // Recorded before anything reaches user code, so a re-entrant or replayed copy is dropped.
    if (uuidKey !== undefined) (this.#seenKeys ??= new Set()).add(uuidKey);
    const index = given ?? this.#finals?.length ?? 0;
    this.#see(index);
    // The item's copy of our taskUUID gives way to ours: an unread result keeps one string, not two.
    if (item.taskUUID === this.taskUUID) item.taskUUID = this.taskUUID;
    const image = new ImageResult(item, index, bytes);
    // An array of one for the first (push() onto [] would reserve 17 slots).
    const finals = this.#finals;
    if (finals === undefined) this.#finals = [image];
    else finals.push(image);
    this.#delivered++;
    this.buffer.dropLatest(index);
    this.buffer.push({ type: 'final', taskUUID: this.taskUUID, index, image });
    if (this.#delivered >= this.#wanted) this.complete(this.#sorted());
  }

  #seen(index: number): boolean {
    return index < 31 ? (this.#seenIndices & (1 << index)) !== 0 : this.#seenKeys?.has(`i${index}`) === true;
  }

  #see(index: number): void {
    if (index < 31) this.#seenIndices |= 1 << index;
    else (this.#seenKeys ??= new Set()).add(`i${index}`);
  }

  /** The finals by index, handed over as they are (the task has ended and adds none). */
  #sorted(): ImageResult[] {
    const finals = this.#finals ?? [];
    this.#finals = undefined;
    for (let i = 1; i < finals.length; i++) {
      if ((finals[i - 1] as ImageResult).index > (finals[i] as ImageResult).index) return finals.sort((a, b) => a.index - b.index);
    }
    return finals;
  }
}
