// A task's result as its record keeps it for getResponse (`r:<index>`): the item as sent, minus an
// inline image (the image store keeps it), as JSON with exact bigint seeds.
import { isRecord, parseJsonWithin, stringifyJson } from '../../protocol/index.js';
import type { ServerFrame } from '../core/server-frame.js';
import type { StoredResult } from '../core/task-registry.js';
import { RedisReplyError } from './errors.js';

/** The result to keep for a final frame: its item, and for an inline image where the bytes are kept. */
export function storedResultOf(frame: ServerFrame): StoredResult {
  switch (frame.kind) {
    case 'data': {
      const item = frame.items[0];
      if (item === undefined) throw new Error('internal: a final frame without an item');
      return { item };
    }
    case 'image': {
      const imageUUID = frame.item.imageUUID;
      if (typeof imageUUID !== 'string') throw new Error('internal: an image final without an imageUUID');
      return { item: frame.item, inline: { field: frame.field, imageUUID, mediaType: frame.mediaType } };
    }
    case 'errors':
      throw new Error('internal: an errors frame is not a result');
  }
}

/** The result index a final frame is recorded under (an upload has one result, index 0). */
export function resultIndexOf(result: StoredResult): number {
  const index = result.item.index;
  return typeof index === 'number' && Number.isInteger(index) && index >= 0 ? index : 0;
}

/** A stored result as the JSON a task record keeps; a seed above 2^53 - 1 keeps its exact digits. */
export function encodeStoredResult(result: StoredResult): string {
  return stringifyJson(result);
}

/** A result read back from a task record; RedisReplyError for JSON this codec did not write. */
export function decodeStoredResult(json: string): StoredResult {
  const parsed = parseJsonWithin(json, { maxDepth: 64, maxValues: 100_000 });
  if (!parsed.ok || !isRecord(parsed.value) || !isRecord(parsed.value.item)) throw new RedisReplyError('a stored result is not the JSON the worker writes');
  return parsed.value as unknown as StoredResult;
}
