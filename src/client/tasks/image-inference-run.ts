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
  readonly #task: ImageInferenceTask;
  readonly #wanted: number;
  readonly #previews: boolean;
  readonly #delivered = new Set<string>();
  readonly #finals: ImageResult[] = [];
  #duplicates = 0;

  constructor(task: ImageInferenceTask) {
    super(task.taskUUID, 'imageInference');
    this.#task = task;
    this.#wanted = task.numberResults ?? 1;
    this.#previews = task.previews !== undefined && task.previews !== false;
  }

  /** Results arrive through getResponse polling only (`deliveryMethod: "async"`). */
  override get async(): boolean {
    return this.#task.deliveryMethod === 'async';
  }

  /** Finals that arrived again (a replay, a resend's second run, a poll) and were dropped. */
  override get duplicates(): number {
    return this.#duplicates;
  }

  /** Finals delivered so far. */
  get delivered(): number {
    return this.#finals.length;
  }

  wireTask(server: ServerView): ImageInferenceTask {
    // The task is never changed after it was built, so it goes out as it is.
    if (this.#task.previews === undefined || server.previews) return this.#task;
    // A server without the previews extension would refuse the unknown field.
    const { previews: _previews, ...rest } = this.#task;
    return rest;
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
    if (this.#delivered.has(`i${index}`)) return;
    const step = wholeNumber(item.step) ?? 0;
    const steps = wholeNumber(item.steps) ?? 0;
    this.buffer.pushLatest(index, { type: 'preview', taskUUID: this.taskUUID, index, step, steps, image: new ImageResult(item, index) });
  }

  #final(item: ServerDataItem, bytes: Uint8Array | undefined): void {
    const given = wholeNumber(item.index);
    const imageUUID = typeof item.imageUUID === 'string' ? item.imageUUID : undefined;
    const key = given !== undefined ? `i${given}` : imageUUID !== undefined ? `u${imageUUID}` : undefined;
    if (key !== undefined && this.#delivered.has(key)) {
      this.#duplicates++;
      return;
    }
    // Recorded before anything reaches user code, so a re-entrant or replayed copy is dropped.
    if (key !== undefined) this.#delivered.add(key);
    const index = given ?? this.#finals.length;
    if (given === undefined) this.#delivered.add(`i${index}`);
    const image = new ImageResult(item, index, bytes);
    this.#finals.push(image);
    this.buffer.dropLatest(index);
    this.buffer.push({ type: 'final', taskUUID: this.taskUUID, index, image });
    if (this.#finals.length >= this.#wanted) this.complete(this.#sorted());
  }

  #sorted(): ImageResult[] {
    return [...this.#finals].sort((a, b) => a.index - b.index);
  }
}
