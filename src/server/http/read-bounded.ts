// Reads a request body up to a byte bound without holding more: every HTTP face (POST /v1, the
// token route, the OpenAI-style routes and imagine) reads its body through it.
import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body up to `max` bytes; undefined when it is larger (the rest is drained, not
 * kept), so an oversize body is refused without being held in memory. Shared by every HTTP face.
 */
export async function readBounded(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > max) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
