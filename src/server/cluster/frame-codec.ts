// A ServerFrame as the fields of one session stream entry and back: `h`, the frame's JSON without
// its image, and `b`, the image bytes as they are (binary-safe, never base64 in Redis).
import { parseJsonWithin, stringifyJson, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';
import { heldSize, taskOf, type ServerFrame } from '../core/server-frame.js';
import { RedisReplyError } from './errors.js';

/** One frame as stream fields: `h` always, `b` only for an image frame. */
export interface EncodedFrame {
  readonly h: string;
  readonly b: Buffer | undefined;
  /** What the frame counts for in the held-bytes bounds (the in-memory store's {@link heldSize}). */
  readonly size: number;
  /** The task the frame belongs to ('' for none). */
  readonly task: string;
}

type Head =
  | { readonly k: 'd'; readonly items: readonly ServerDataItem[] }
  | { readonly k: 'e'; readonly errors: readonly ProtocolErrorItem[] }
  | { readonly k: 'i'; readonly item: ServerDataItem; readonly field: 'imageBase64Data' | 'imageDataURI'; readonly mediaType: string };

/** The stream fields of a frame. The image is referenced, not copied. */
export function encodeFrame(frame: ServerFrame): EncodedFrame {
  const size = heldSize(frame);
  const task = taskOf(frame) ?? '';
  switch (frame.kind) {
    case 'data':
      return { h: stringifyJson({ k: 'd', items: frame.items } satisfies Head), b: undefined, size, task };
    case 'errors':
      return { h: stringifyJson({ k: 'e', errors: frame.errors } satisfies Head), b: undefined, size, task };
    case 'image': {
      const image = frame.image;
      const b = Buffer.isBuffer(image) ? image : Buffer.from(image.buffer, image.byteOffset, image.byteLength);
      return { h: stringifyJson({ k: 'i', item: frame.item, field: frame.field, mediaType: frame.mediaType } satisfies Head), b, size, task };
    }
  }
}

/**
 * Nesting a held frame may have. The store wrote it, so it bounds nothing hostile; the value count
 * is bounded by the text's length anyway.
 */
const heldFrameDepth = 64;

/**
 * The frame of stream fields written by {@link encodeFrame}; RedisReplyError for anything else.
 * Integers beyond 2^53 - 1 (a seed of up to 64 bits) come back as the exact bigints encodeFrame
 * wrote, as the protocol's frame parser reads them.
 */
export function decodeFrame(h: string, b: Buffer | undefined): ServerFrame {
  const parsed = parseJsonWithin(h, { maxDepth: heldFrameDepth, maxValues: h.length + 1 });
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) throw new RedisReplyError('a held frame is not the JSON the store writes');
  const head = parsed.value as Partial<Record<string, unknown>>;
  switch (head.k) {
    case 'd':
      if (Array.isArray(head.items)) return { kind: 'data', items: head.items as ServerDataItem[] };
      break;
    case 'e':
      if (Array.isArray(head.errors)) return { kind: 'errors', errors: head.errors as ProtocolErrorItem[] };
      break;
    case 'i':
      if (b !== undefined && typeof head.item === 'object' && head.item !== null && (head.field === 'imageBase64Data' || head.field === 'imageDataURI') && typeof head.mediaType === 'string') {
        return { kind: 'image', item: head.item as ServerDataItem, field: head.field, mediaType: head.mediaType, image: b };
      }
      break;
  }
  throw new RedisReplyError('a held frame has an unknown shape');
}
