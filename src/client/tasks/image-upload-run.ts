// An imageUpload task: one item with the stored image's UUID ends it.
import type { ImageUploadTask, ServerDataItem } from '../../protocol/index.js';
import { itemError } from './image-inference-run.js';
import type { UploadedImage } from './requests.js';
import { TaskRun } from './task-run.js';

/** One imageUpload task. */
export class ImageUploadRun extends TaskRun<never, UploadedImage> {
  readonly #task: ImageUploadTask;

  constructor(task: ImageUploadTask) {
    super(task.taskUUID, 'imageUpload');
    this.#task = task;
  }

  wireTask(): ImageUploadTask {
    return this.#task;
  }

  handleItem(item: ServerDataItem): void {
    if (this.ended) return;
    if (item.status === 'error') {
      this.fail(itemError(item));
      return;
    }
    if (typeof item.imageUUID !== 'string') return;
    this.complete({
      taskUUID: this.taskUUID,
      imageUUID: item.imageUUID,
      imageURL: typeof item.imageURL === 'string' ? item.imageURL : undefined,
      item,
    });
  }
}
