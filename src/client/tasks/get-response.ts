// Reading a getResponse answer: the status of the task asked about, its final images so far, and
// its errors. Used by the WebSocket and HTTP clients alike.
import type { ProtocolErrorItem, ServerDataItem, TaskStatus } from '../../protocol/index.js';
import { ApiError } from '../errors.js';
import { itemError } from './image-inference-run.js';
import { ImageResult } from '../image-result.js';
import type { GetResponseResult } from './requests.js';

const IMAGE_FIELDS = ['imageURL', 'imageBase64Data', 'imageDataURI'] as const;

/** Builds the result of a getResponse from the answer's items and errors. */
export function readGetResponse(taskUUID: string, items: readonly ServerDataItem[], errorItems: readonly ProtocolErrorItem[] = []): GetResponseResult {
  const errors: ApiError[] = errorItems.map((item) => new ApiError(item));
  const images: ImageResult[] = [];
  let status: TaskStatus = 'success';
  for (const item of items) {
    if (item.status === 'error') {
      status = 'error';
      errors.push(itemError(item));
    } else if (item.status === 'processing') {
      if (status !== 'error') status = 'processing';
    } else if (IMAGE_FIELDS.some((field) => typeof item[field] === 'string')) {
      const index = typeof item.index === 'number' ? item.index : images.length;
      images.push(new ImageResult(item, index));
    }
  }
  if (errors.length > 0) status = 'error';
  images.sort((a, b) => a.index - b.index);
  return { taskUUID, status, images, errors, items };
}
