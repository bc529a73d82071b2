// The binaryResults extension: a final image as one binary WebSocket frame, a small JSON header
// and then the raw image bytes, so large images skip base64 and JSON parsing.
//
// Layout: byte 0 = format version (1); bytes 1..4 = header length N (uint32, big-endian);
// bytes 5..5+N = header as UTF-8 JSON (the result item without its image field); the rest = image.
import { stringifyJson } from './json-stringify.js';
import type { ServerDataItem } from './tasks.js';

export const BINARY_FRAME_VERSION = 1;
const PREFIX_BYTES = 5;
/** Headers are small; a bigger one means the frame is not ours. */
export const MAX_BINARY_HEADER_BYTES = 64 * 1024;

/** Header of a binary result frame: a result item, plus `seq` under the ack extension. */
export interface BinaryResultHeader extends ServerDataItem {
  taskUUID: string;
  seq?: number;
}

const encoder = /* @__PURE__ */ new TextEncoder();
const decoder = new TextDecoder();

/** Builds one binary result frame from its header and the encoded image bytes. */
export function encodeBinaryResult(header: BinaryResultHeader, image: Uint8Array): Uint8Array {
  const head = encodeBinaryResultHead(header);
  const frame = new Uint8Array(head.byteLength + image.byteLength);
  frame.set(head, 0);
  frame.set(image, head.byteLength);
  return frame;
}

/**
 * The bytes of a binary result frame before its image (version, header length, header), for a
 * sender that writes the image after them without copying it into one buffer.
 */
export function encodeBinaryResultHead(header: BinaryResultHeader): Uint8Array {
  const headerBytes = encoder.encode(stringifyJson(header));
  const head = new Uint8Array(PREFIX_BYTES + headerBytes.byteLength);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  view.setUint8(0, BINARY_FRAME_VERSION);
  view.setUint32(1, headerBytes.byteLength, false);
  head.set(headerBytes, PREFIX_BYTES);
  return head;
}

export type DecodedBinaryResult = { ok: true; header: BinaryResultHeader; image: Uint8Array } | { ok: false; reason: string };

/** Reads a binary result frame; the image is a view into `frame`, not a copy. Never throws. */
export function decodeBinaryResult(frame: Uint8Array | ArrayBuffer): DecodedBinaryResult {
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  if (bytes.byteLength < PREFIX_BYTES) return { ok: false, reason: 'binary frame shorter than its prefix' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(0);
  if (version !== BINARY_FRAME_VERSION) return { ok: false, reason: `unknown binary frame version ${version}` };
  const headerLength = view.getUint32(1, false);
  if (headerLength > MAX_BINARY_HEADER_BYTES || PREFIX_BYTES + headerLength > bytes.byteLength) {
    return { ok: false, reason: 'binary frame header length out of range' };
  }
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength)));
  } catch {
    return { ok: false, reason: 'binary frame header is not JSON' };
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return { ok: false, reason: 'binary frame header is not an object' };
  const record = header as Record<string, unknown>;
  if (typeof record.taskType !== 'string' || typeof record.taskUUID !== 'string') {
    return { ok: false, reason: 'binary frame header lacks taskType or taskUUID' };
  }
  return { ok: true, header: record as BinaryResultHeader, image: bytes.subarray(PREFIX_BYTES + headerLength) };
}
