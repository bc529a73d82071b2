// What the server sends, before it is encoded: one frame's content, kept structured so the same
// result can go out as JSON or as a binary frame, with or without a sequence number, and be held
// for resume without its image being base64-encoded first.
import { boundErrorItems, encodeBinaryResult, encodeBinaryResultHead, encodeDataFrame, encodeErrorFrame, stringifyJson, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';
import { dataUri, inlineImage } from '../../internal/bytes.js';

/** The field an inline image goes in, by outputType (base64Data or dataURI). */
export type InlineField = 'imageBase64Data' | 'imageDataURI';

/** The content of one server frame. */
export type ServerFrame =
  /** `{"data":[...]}`: one item, or the several items of one task (a getResponse answer). */
  | { readonly kind: 'data'; readonly items: readonly ServerDataItem[] }
  /** `{"errors":[...]}`: the errors of one task, or one frame-level error. */
  | { readonly kind: 'errors'; readonly errors: readonly ProtocolErrorItem[] }
  /**
   * A final image whose output is inline (base64Data or dataURI): JSON with the image field added,
   * or a binary frame under the binaryResults extension.
   */
  | {
      readonly kind: 'image';
      readonly item: ServerDataItem;
      readonly field: InlineField;
      readonly mediaType: string;
      readonly image: Uint8Array;
    };

/** A frame carrying a final image. */
export type ImageFrame = Extract<ServerFrame, { kind: 'image' }>;

/** How a frame is encoded on one socket. */
export interface EncodeOptions {
  /** Sequence number under the ack extension. */
  readonly seq?: number | undefined;
  /** binaryResults extension: inline images as binary frames. */
  readonly binary: boolean;
}

/** The image item with its inline field, placed after imageUUID as the protocol's examples do. */
export function inlineImageItem(frame: ImageFrame): ServerDataItem {
  const { taskType, imageUUID, ...rest } = frame.item;
  return { taskType, taskUUID: frame.item.taskUUID ?? '', imageUUID, [frame.field]: inlineFieldValue(frame.field, frame.mediaType, frame.image), ...rest };
}

/** An image as the value of its inline field. */
export function inlineFieldValue(field: InlineField, mediaType: string, image: Uint8Array): string {
  return inlineImage(image, mediaType, field === 'imageDataURI' ? 'dataURI' : 'base64');
}

/** Images smaller than this go through JSON.stringify whole. */
const SPLICE_MIN_BYTES = 4096;

/** Stands in for the image while the rest of the item is stringified; only letters and dashes, so JSON leaves it as is. */
const IMAGE_PLACEHOLDER = 'imagewire-inline-image-5f0c2a9e';

/**
 * The JSON data frame of an inline image. The item is stringified with a placeholder and the image
 * spliced in after, so JSON.stringify never walks megabytes of base64 (it needs no escaping).
 */
function inlineImageFrame(frame: ImageFrame, seq: number | undefined): string {
  // Below a few KiB, stringifying the whole item costs less than the splice.
  const spliced = frame.image.byteLength < SPLICE_MIN_BYTES ? undefined : splicedImageFrame(frame, seq);
  if (spliced === undefined) return encodeDataFrame([inlineImageItem(frame)], seq);
  return spliced.before + inlineFieldValue(frame.field, frame.mediaType, frame.image) + spliced.after;
}

/** The data frame of an inline image, cut where the field's value goes; undefined if the placeholder is not found. */
function splicedImageFrame(frame: ImageFrame, seq: number | undefined): { before: string; after: string } | undefined {
  const { taskType, imageUUID, ...rest } = frame.item;
  const item = { taskType, taskUUID: frame.item.taskUUID ?? '', imageUUID, [frame.field]: IMAGE_PLACEHOLDER, ...rest };
  const text = encodeDataFrame([item], seq);
  // Other strings cannot hold this quoted member: their quotes would be escaped.
  const needle = `"${frame.field}":"${IMAGE_PLACEHOLDER}"`;
  const at = text.indexOf(needle);
  if (at === -1) return undefined;
  const valueAt = at + frame.field.length + 4;
  return { before: text.slice(0, valueAt), after: text.slice(valueAt + IMAGE_PLACEHOLDER.length) };
}

/** Encodes a frame for the wire. */
export function encodeServerFrame(frame: ServerFrame, options: EncodeOptions): string | Uint8Array {
  switch (frame.kind) {
    case 'data':
      return encodeDataFrame(frame.items, options.seq);
    case 'errors':
      return encodeErrorFrame(frame.errors, options.seq);
    case 'image': {
      if (!options.binary) return inlineImageFrame(frame, options.seq);
      const header = { ...frame.item, taskUUID: frame.item.taskUUID ?? '', byteLength: frame.image.byteLength, ...(options.seq === undefined ? {} : { seq: options.seq }) };
      return encodeBinaryResult(header, frame.image);
    }
  }
}

/**
 * One WebSocket message as the consecutive fragments it is written in. A socket writes the parts
 * as fragments of one message (text or binary), so nothing else can come between them.
 */
export interface WireMessage {
  readonly binary: boolean;
  readonly parts: readonly (string | Uint8Array)[];
  /** The message's length: bytes of its binary parts plus UTF-16 units of its text parts. */
  readonly size: number;
}

/** Images at least this large go out as fragments instead of one assembled frame. */
const FRAGMENT_MIN_BYTES = 128 * 1024;
/** Image bytes per base64 fragment: a multiple of 3, so the fragments' base64 joins into one valid string. */
const FRAGMENT_IMAGE_BYTES = 48 * 1024;

/**
 * Encodes a frame for a socket. An image frame of FRAGMENT_MIN_BYTES or more is written as
 * fragments around the image: the image bytes themselves (binary), or its base64 in 64 KiB pieces
 * (JSON). Assembling the frame would copy the image two or three times into fresh
 * megabyte-sized blocks (its base64 string, the joined text, the UTF-8 buffer), and fresh memory
 * is what large replays pay for most; the fragments are small and the allocator reuses them.
 */
export function encodeServerMessage(frame: ServerFrame, options: EncodeOptions): WireMessage {
  if (frame.kind !== 'image' || frame.image.byteLength < FRAGMENT_MIN_BYTES) return wholeMessage(encodeServerFrame(frame, options));
  if (options.binary) {
    const header = { ...frame.item, taskUUID: frame.item.taskUUID ?? '', byteLength: frame.image.byteLength, ...(options.seq === undefined ? {} : { seq: options.seq }) };
    const head = encodeBinaryResultHead(header);
    return { binary: true, parts: [head, frame.image], size: head.byteLength + frame.image.byteLength };
  }
  const spliced = splicedImageFrame(frame, options.seq);
  if (spliced === undefined) return wholeMessage(encodeServerFrame(frame, options));
  const prefix = frame.field === 'imageDataURI' ? dataUri(frame.mediaType, '') : '';
  const parts: string[] = [spliced.before + prefix];
  const image = Buffer.from(frame.image.buffer, frame.image.byteOffset, frame.image.byteLength);
  for (let at = 0; at < image.byteLength; at += FRAGMENT_IMAGE_BYTES) parts.push(image.toString('base64', at, Math.min(at + FRAGMENT_IMAGE_BYTES, image.byteLength)));
  parts.push(spliced.after);
  let size = 0;
  for (const part of parts) size += part.length;
  return { binary: false, parts, size };
}

function wholeMessage(data: string | Uint8Array): WireMessage {
  return { binary: typeof data !== 'string', parts: [data], size: typeof data === 'string' ? data.length : data.byteLength };
}

/** What a held image frame's item is counted as: the server builds it, a few short fields. */
const IMAGE_ITEM_BYTES = 512;

/** Approximate memory a held frame costs: its image bytes plus its JSON. */
export function heldSize(frame: ServerFrame): number {
  switch (frame.kind) {
    case 'data':
      return stringifyJson(frame.items).length + 16;
    case 'errors':
      return stringifyJson(frame.errors).length + 16;
    case 'image':
      return frame.image.byteLength + IMAGE_ITEM_BYTES;
  }
}

/** The taskUUID a task-output frame is about, if any. */
export function taskOf(frame: ServerFrame): string | undefined {
  switch (frame.kind) {
    case 'data':
      return frame.items[0]?.taskUUID;
    case 'errors':
      return frame.errors[0]?.taskUUID;
    case 'image':
      return frame.item.taskUUID;
  }
}

/** A data frame of one item. */
export function dataFrame(item: ServerDataItem): ServerFrame {
  return { kind: 'data', items: [item] };
}

/**
 * An errors frame, bounded ({@link boundErrorItems}): at most a few dozen items of capped size,
 * however many problems a hostile frame held.
 */
export function errorsFrame(errors: readonly ProtocolErrorItem[]): ServerFrame {
  return { kind: 'errors', errors: boundErrorItems(errors) };
}
