// Random version-4 UUIDs for images, as flat strings. node:crypto's randomUUID() joins its hex
// pieces into a tree of concatenated strings, and a finished task keeps its imageUUID (in its
// stored result and in the image store) for the whole retention time: about 130 B more per image.
import { randomFillSync } from 'node:crypto';

/** Random bytes for 256 UUIDs, refilled when used up (one system call per 256 UUIDs). */
const pool = Buffer.allocUnsafe(16 * 256);
let offset = pool.length;
const text = Buffer.allocUnsafe(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 bytes goes in the 36 characters (the dashes sit at 8, 13, 18 and 23). */
const positions = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
text.write('--------', 0, 'latin1');
for (const at of [8, 13, 18, 23]) text[at] = 0x2d;

/** A random UUID (version 4, RFC 9562), as one flat string. */
export function imageUUID(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  for (let i = 0; i < 16; i++) {
    let byte = pool[offset + i] as number;
    if (i === 6) byte = (byte & 0x0f) | 0x40;
    else if (i === 8) byte = (byte & 0x3f) | 0x80;
    const at = positions[i] as number;
    text[at] = HEX[byte >> 4] as number;
    text[at + 1] = HEX[byte & 0x0f] as number;
  }
  offset += 16;
  return text.toString('latin1', 0, 36);
}
