// Runs one imageInference task on a timer: its images finish one (or one batch) per `imageDelayMs`,
// each becomes a documented result item (no index, no final marker: the base protocol has none),
// and an armed failure ends the task early with an error.
import { randomUUID } from 'node:crypto';
import type { TaskFailure } from './faults.js';
import type { ImageBytes, ImageStore } from './images.js';
import type { SeededRandom } from './random.js';
import type { ResultItem } from './task-records.js';
import { outputFormats, type InferenceRequest } from './wire-rules.js';

/** What a run needs from the emulator. */
export interface InferenceDeps {
  readonly bytes: ImageBytes;
  readonly images: ImageStore;
  /** Base of image URLs (`http://127.0.0.1:<port>`). */
  readonly httpUrl: string;
  readonly imageDelayMs: number;
  /** Items per frame: 1, or the batch size. */
  readonly perFrame: number;
  readonly costPerImage: number;
  readonly random: SeededRandom;
}

/** Where a run's outputs go. */
export interface InferenceSink {
  /** Items that finished together (one frame's worth). */
  results(items: readonly ResultItem[]): void;
  /** The task failed (after the images already given to `results`). */
  failed(error: { readonly code: string; readonly message: string }): void;
  /** Every image was produced. */
  done(): void;
}

/** Starts a run; returns a function that stops it (no further output). */
export function runInference(taskUUID: string, request: InferenceRequest, failure: TaskFailure | undefined, deps: InferenceDeps, sink: InferenceSink): () => void {
  const firstSeed = request.seed ?? deps.random.int(1, 2 ** 31);
  const format = outputFormats[request.outputFormat];
  let produced = 0;
  let timer: NodeJS.Timeout | undefined;

  const image = (seed: number): ResultItem => {
    const imageUUID = randomUUID();
    const bytes = deps.images.putGenerated(imageUUID, deps.bytes, request.outputFormat).bytes;
    const output =
      request.outputType === 'URL'
        ? { imageURL: `${deps.httpUrl}/images/${imageUUID}.${format.ext}` }
        : request.outputType === 'base64Data'
          ? { imageBase64Data: bytes.toString('base64') }
          : { imageDataURI: `data:${format.mime};base64,${bytes.toString('base64')}` };
    return {
      taskType: 'imageInference',
      taskUUID,
      imageUUID,
      ...output,
      seed,
      ...(request.includeCost ? { cost: deps.costPerImage } : {}),
      ...(request.checkNSFW ? { NSFWContent: false } : {}),
    };
  };

  const limit = failure === undefined ? request.numberResults : Math.min(request.numberResults, failure.afterImages);
  const step = (): void => {
    timer = undefined;
    if (produced >= limit) {
      // Only reached with a failure armed: the images it allowed are out.
      if (failure !== undefined) sink.failed({ code: failure.code, message: failure.message });
      return;
    }
    const count = Math.min(deps.perFrame, limit - produced);
    const items: ResultItem[] = [];
    for (let i = 0; i < count; i++) items.push(image(firstSeed + produced + i));
    produced += count;
    sink.results(items);
    if (produced < limit || failure !== undefined) schedule();
    else sink.done();
  };

  const schedule = (): void => {
    timer = setTimeout(step, deps.imageDelayMs);
  };

  schedule();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}
