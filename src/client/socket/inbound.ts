// Turns one received WebSocket message into what the client routes: a JSON frame of items and
// errors, or a binary result (header + image bytes, never base64 and never JSON-parsed as a whole).
import { decodeBinaryResult, decodeServerFrame, type BinaryResultHeader, type DecodedBinaryResult, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';

/** One received message, decoded. */
export type Inbound =
  | { readonly kind: 'frame'; readonly data: ServerDataItem[]; readonly errors: ProtocolErrorItem[]; readonly seq: number | undefined }
  | { readonly kind: 'binary'; readonly header: BinaryResultHeader; readonly image: Uint8Array; readonly seq: number | undefined }
  | { readonly kind: 'invalid'; readonly reason: string };

/** A binary message's bytes as the socket handed them over: one block, or `ws`'s fragments. */
function binaryParts(data: unknown): readonly Uint8Array[] | undefined {
  if (data instanceof Uint8Array) return [data];
  if (data instanceof ArrayBuffer) return [new Uint8Array(data)];
  if (Array.isArray(data) && data.every((part) => part instanceof Uint8Array)) return data as Uint8Array[];
  return undefined;
}

/**
 * The image as a plain Uint8Array the result may keep: a view when the block it came in holds only
 * this message, a copy when that block is shared (a socket read chunk, a pool), so a kept small
 * image does not pin the block. A large image has a block of its own and is never copied.
 */
function ownBytes(image: Uint8Array, block: Uint8Array): Uint8Array {
  if (block.byteLength === block.buffer.byteLength) return new Uint8Array(image.buffer, image.byteOffset, image.byteLength);
  const copy = new Uint8Array(image.byteLength);
  copy.set(image);
  return copy;
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

/**
 * Reads a binary result from its parts. An imagewire server sends a large image as two fragments,
 * the header and the image: the image fragment is taken as it is, never joined to the header into
 * one more megabyte buffer. Other splits are joined once.
 */
function decodeBinary(parts: readonly Uint8Array[]): DecodedBinaryResult {
  const [first, image] = parts;
  if (first !== undefined && parts.length <= 2) {
    const result = decodeBinaryResult(first);
    if (image === undefined) return result.ok ? { ...result, image: ownBytes(result.image, first) } : result;
    if (result.ok && result.image.byteLength === 0) return { ...result, image: ownBytes(image, image) };
  }
  return decodeBinaryResult(join(parts));
}

/** Decodes a message's `data`; never throws. Text is JSON; binary is a binaryResults frame. */
export function decodeInbound(data: unknown): Inbound {
  if (typeof data === 'string') {
    const frame = decodeServerFrame(data);
    if (!frame.ok) return { kind: 'invalid', reason: frame.reason };
    return { kind: 'frame', data: frame.data, errors: frame.errors, seq: frame.seq };
  }
  const parts = binaryParts(data);
  if (parts === undefined) return { kind: 'invalid', reason: `unsupported message data (${typeof data})` };
  const result = decodeBinary(parts);
  if (!result.ok) return { kind: 'invalid', reason: result.reason };
  const seq = typeof result.header.seq === 'number' && Number.isSafeInteger(result.header.seq) ? result.header.seq : undefined;
  return { kind: 'binary', header: result.header, image: result.image, seq };
}
