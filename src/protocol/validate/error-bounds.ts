// Bounds every error answer: a capped number of items, each with capped text fields, so the size
// of an answer never depends on how much a hostile frame held (unknown keys, megabyte-long names).
import { cutText } from './describe.js';
import { protocolError, type ProtocolErrorItem } from '../error-codes.js';

/** The caps of one error answer (`{"errors":[...]}`, or the items of one HTTP answer). */
export const errorBounds = {
  /** Items in one answer; past it the last item, `tooManyErrors`, says how many were left out. */
  maxItems: 32,
  /** UTF-16 units of `message`. */
  maxMessageLength: 300,
  /** UTF-16 units of `parameter` (a real path such as `controlNet[19].startStepPercentage` has 35). */
  maxParameterLength: 100,
  /** UTF-16 units of each of `code`, `type`, `taskType` and `taskUUID` (a UUID has 36). */
  maxFieldLength: 64,
} as const;

/**
 * Most UTF-8 bytes one bounded item takes in JSON. A UTF-16 unit takes at most 6 bytes once
 * encoded (a control character or a lone surrogate becomes `\u001f`), and the punctuation and
 * member names of the six fields take under 100 bytes.
 */
export const MAX_ERROR_ITEM_BYTES = 4 * 1024;

/**
 * Most UTF-8 bytes of an encoded error answer: {@link errorBounds}.maxItems items of at most
 * {@link MAX_ERROR_ITEM_BYTES}, plus the frame around them (`{"seq":…,"errors":[…]}`).
 */
export const MAX_ERROR_FRAME_BYTES = errorBounds.maxItems * MAX_ERROR_ITEM_BYTES + 64;

function fits(item: ProtocolErrorItem): boolean {
  const field = errorBounds.maxFieldLength;
  return (
    item.code.length <= field &&
    item.message.length <= errorBounds.maxMessageLength &&
    (item.parameter === undefined || item.parameter.length <= errorBounds.maxParameterLength) &&
    (item.type === undefined || item.type.length <= field) &&
    (item.taskType === undefined || item.taskType.length <= field) &&
    (item.taskUUID === undefined || item.taskUUID.length <= field)
  );
}

/** The item with every text field cut to its cap; the item itself when all fit. */
export function boundErrorItem(item: ProtocolErrorItem): ProtocolErrorItem {
  if (fits(item)) return item;
  const field = errorBounds.maxFieldLength;
  const bounded: ProtocolErrorItem = { code: cutText(item.code, field), message: cutText(item.message, errorBounds.maxMessageLength) };
  if (item.parameter !== undefined) bounded.parameter = cutText(item.parameter, errorBounds.maxParameterLength);
  if (item.type !== undefined) bounded.type = cutText(item.type, field);
  if (item.taskType !== undefined) bounded.taskType = cutText(item.taskType, field);
  if (item.taskUUID !== undefined) bounded.taskUUID = cutText(item.taskUUID, field);
  return bounded;
}

/** The one summary item of `left` items left out of an answer; `summarised` when one of them was itself a summary. */
export function leftOutItem(left: number, context: { taskType?: string | undefined; taskUUID?: string | undefined }, summarised = false): ProtocolErrorItem {
  const count = summarised ? `more than ${left}` : `${left}`;
  return protocolError('tooManyErrors', `${count} more ${left === 1 && !summarised ? 'problem was' : 'problems were'} found and left out of this answer`, {
    type: 'task',
    taskType: context.taskType === undefined ? undefined : cutText(context.taskType, errorBounds.maxFieldLength),
    taskUUID: context.taskUUID === undefined ? undefined : cutText(context.taskUUID, errorBounds.maxFieldLength),
  });
}

/**
 * The items of one error answer within {@link errorBounds}: at most `maxItems`, the last of them a
 * `tooManyErrors` item counting those left out, every text field cut to its cap. Returns `items`
 * itself when it is already within bounds (the common case allocates nothing).
 */
export function boundErrorItems(items: readonly ProtocolErrorItem[]): readonly ProtocolErrorItem[] {
  const max = errorBounds.maxItems;
  if (items.length <= max && items.every(fits)) return items;
  const kept = items.length <= max ? items : items.slice(0, max - 1);
  const bounded = kept.map(boundErrorItem);
  if (items.length > max) {
    const left = items.slice(max - 1);
    const first = left[0];
    // The summary names a task only when every item it stands for is about that task.
    const sameTask = left.every((item) => item.taskUUID === first?.taskUUID && item.taskType === first?.taskType);
    const summarised = left.some((item) => item.code === 'tooManyErrors');
    bounded.push(leftOutItem(left.length, sameTask ? { taskType: first?.taskType, taskUUID: first?.taskUUID } : {}, summarised));
  }
  return bounded;
}
