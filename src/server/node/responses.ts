// getResponse's items from a task record in Redis: the results so far (inline images read back from
// the image store), then `processing` or the error, as the in-memory registry answers them.
import { parseJson, parseJsonWithin, isRecord, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';
import type { RedisImageStore } from '../cluster/image-store.js';
import type { StoredTask } from '../cluster/task-store.js';
import { inlineFieldValue, type InlineField } from '../core/server-frame.js';
import type { StoredResult } from '../core/task-registry.js';

/**
 * A recorded result: a StoredResult's JSON (`{item, inline?}`), or a bare result item. Read with
 * exact big integers, so a 64-bit seed comes back as the worker wrote it, not rounded to a double.
 */
function resultOf(json: string): StoredResult | undefined {
  const parsed = parseJsonWithin(json, { maxDepth: 64, maxValues: 100_000 });
  if (!parsed.ok || !isRecord(parsed.value)) return undefined;
  const value = parsed.value;
  if (!isRecord(value.item)) return { item: value as unknown as ServerDataItem };
  const inline = value.inline;
  if (isRecord(inline) && typeof inline.imageUUID === 'string' && typeof inline.mediaType === 'string' && (inline.field === 'imageBase64Data' || inline.field === 'imageDataURI')) {
    return { item: value.item as unknown as ServerDataItem, inline: { field: inline.field as InlineField, imageUUID: inline.imageUUID, mediaType: inline.mediaType } };
  }
  return { item: value.item as unknown as ServerDataItem };
}

/** The first error of a record's errors JSON (an array of error items, or `{errors: [...]}`). */
function firstError(json: string | undefined): ProtocolErrorItem | undefined {
  if (json === undefined || json === '') return undefined;
  const parsed = parseJson(json);
  if (!parsed.ok) return undefined;
  const list: unknown = Array.isArray(parsed.value) ? parsed.value : isRecord(parsed.value) ? parsed.value.errors : undefined;
  const first: unknown = Array.isArray(list) ? list[0] : undefined;
  return isRecord(first) && typeof first.code === 'string' && typeof first.message === 'string' ? (first as unknown as ProtocolErrorItem) : undefined;
}

/** One result as getResponse gives it: inline images read back by imageUUID. */
async function resultItem(task: StoredTask, result: StoredResult, images: RedisImageStore): Promise<ServerDataItem> {
  const inline = result.inline;
  if (inline === undefined) return { ...result.item, status: 'success' };
  const image = await images.get(inline.imageUUID);
  if (image === undefined) {
    return { taskType: task.taskType, taskUUID: task.taskUUID, imageUUID: inline.imageUUID, status: 'error', error: { code: 'imageNotFound', message: 'the image is no longer kept by the server' } };
  }
  const { taskType, imageUUID, ...rest } = result.item;
  return { taskType, taskUUID: task.taskUUID, imageUUID, [inline.field]: inlineFieldValue(inline.field, inline.mediaType, image.bytes), ...rest, status: 'success' };
}

/** getResponse's items: every result so far with status success, then processing or the error. */
export async function responseItems(task: StoredTask, images: RedisImageStore): Promise<ServerDataItem[]> {
  const items: ServerDataItem[] = [];
  for (const { json } of task.results) {
    const result = resultOf(json);
    if (result !== undefined) items.push(await resultItem(task, result, images));
  }
  // Every result in while the worker has yet to end the task (two steps in Redis, one in memory): answered as ended.
  const complete = task.expected > 0 && task.results.length >= task.expected;
  if (task.state === 'running' && !complete) {
    items.push({ taskType: task.taskType, taskUUID: task.taskUUID, status: 'processing', progress: task.progress });
  } else if (task.state !== 'success' && task.state !== 'running') {
    const first = firstError(task.errors);
    const error: Record<string, string> = { code: first?.code ?? 'taskCancelled', message: first?.message ?? 'the task was cancelled' };
    if (first?.parameter !== undefined) error.parameter = first.parameter;
    items.push({ taskType: task.taskType, taskUUID: task.taskUUID, status: 'error', error });
  }
  return items;
}
