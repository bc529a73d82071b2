// The task methods both transports offer (WebSocket client and HTTP client), and the generic
// run(task) that dispatches a task object to its typed method.
import type { ImageResult } from '../image-result.js';
import type {
  GetResponseRequest,
  GetResponseResult,
  ImageInferenceEvent,
  ImageInferenceRequest,
  ImageUploadRequest,
  PingOptions,
  PingResult,
  UploadedImage,
} from './requests.js';
import type { TaskStream } from './task-stream.js';

/** A task object for {@link TaskApi.run}: a request plus its `taskType`. */
export type RunnableTask =
  | ({ taskType: 'imageInference' } & ImageInferenceRequest)
  | ({ taskType: 'imageUpload' } & ImageUploadRequest)
  | ({ taskType: 'getResponse' } & GetResponseRequest)
  | ({ taskType: 'ping' } & PingOptions);

/** What {@link TaskApi.run} returns for a task type. */
export type RunResult<T extends RunnableTask> = T extends { taskType: 'imageInference' }
  ? TaskStream<ImageInferenceEvent, ImageResult[]>
  : T extends { taskType: 'imageUpload' }
    ? Promise<UploadedImage>
    : T extends { taskType: 'getResponse' }
      ? Promise<GetResponseResult>
      : Promise<PingResult>;

/** One typed method per task type of the protocol, plus the generic run(). */
export interface TaskApi {
  /** Generates images; the stream yields previews (if asked for) and each final image once. */
  imageInference(request: ImageInferenceRequest): TaskStream<ImageInferenceEvent, ImageResult[]>;
  /** Stores an image on the server; resolves with its imageUUID. */
  imageUpload(request: ImageUploadRequest): Promise<UploadedImage>;
  /** Asks what a task (by taskUUID) produced so far. */
  getResponse(request: GetResponseRequest | string): Promise<GetResponseResult>;
  /** Round trip to the server. */
  ping(options?: PingOptions): Promise<PingResult>;
  /** Runs any task object by its taskType. */
  run<T extends RunnableTask>(task: T): RunResult<T>;
}

/** Dispatches a task object to the typed method of `api`. */
export function runTask<T extends RunnableTask>(api: TaskApi, task: T): RunResult<T> {
  const { taskType, ...request } = task as RunnableTask;
  switch (taskType) {
    case 'imageInference':
      return api.imageInference(request as ImageInferenceRequest) as RunResult<T>;
    case 'imageUpload':
      return api.imageUpload(request as ImageUploadRequest) as RunResult<T>;
    case 'getResponse':
      return api.getResponse(request as GetResponseRequest) as RunResult<T>;
    case 'ping':
      return api.ping(request as PingOptions) as RunResult<T>;
    default: {
      const unknown: string = taskType;
      throw new TypeError(`imagewire: run() knows imageInference, imageUpload, getResponse and ping; got taskType ${JSON.stringify(unknown)}`);
    }
  }
}
