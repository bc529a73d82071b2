// Turns one received WebSocket message into what the client routes: a JSON frame of items and
// errors, or a binary result (header + image bytes, never base64 and never JSON-parsed as a whole).
import { decodeBinaryResult, decodeServerFrame, type BinaryResultHeader, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';

/** One received message, decoded. */
export type Inbound =
  | { readonly kind: 'frame'; readonly data: ServerDataItem[]; readonly errors: ProtocolErrorItem[]; readonly seq: number | undefined }
  | { readonly kind: 'binary'; readonly header: BinaryResultHeader; readonly image: Uint8Array; readonly seq: number | undefined }
  | { readonly kind: 'invalid'; readonly reason: string };

function binaryView(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data) && data.every((part) => part instanceof Uint8Array)) {
    // `ws` with binaryType "fragments": join once.
    const parts = data as Uint8Array[];
    const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.byteLength;
    }
    return joined;
  }
  return undefined;
}

/** Decodes a message's `data`; never throws. Text is JSON; binary is a binaryResults frame. */
export function decodeInbound(data: unknown): Inbound {
  if (typeof data === 'string') {
    const frame = decodeServerFrame(data);
    if (!frame.ok) return { kind: 'invalid', reason: frame.reason };
    return { kind: 'frame', data: frame.data, errors: frame.errors, seq: frame.seq };
  }
  const bytes = binaryView(data);
  if (bytes === undefined) return { kind: 'invalid', reason: `unsupported message data (${typeof data})` };
  const result = decodeBinaryResult(bytes);
  if (!result.ok) return { kind: 'invalid', reason: result.reason };
  const seq = typeof result.header.seq === 'number' && Number.isSafeInteger(result.header.seq) ? result.header.seq : undefined;
  return { kind: 'binary', header: result.header, image: result.image, seq };
}
