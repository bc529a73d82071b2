// A WebSocket client written against the raw TCP socket, for attacks a well-behaved library will not
// make: announcing a frame larger than it sends, and sending while it has stopped reading.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** A socket past the WebSocket handshake. */
export interface RawSocket {
  readonly tcp: Socket;
  /** Resolves when the server closes (or cuts) the connection. */
  readonly closed: Promise<void>;
  /** Sends a complete masked text frame. */
  sendText(text: string): void;
  /** Writes a frame header announcing `length` bytes, without its payload. */
  announce(length: number): void;
  /** Writes `bytes` as (part of) a payload; resolves when the kernel took them, false if the socket closed. */
  write(bytes: Uint8Array): Promise<boolean>;
  /** Text frames received while reading. */
  readonly texts: string[];
  /** Stops reading: the server's writes pile up in its own buffers. */
  stopReading(): void;
}

function header(length: number): Buffer {
  const mask = randomBytes(4);
  if (length < 126) return Buffer.concat([Buffer.from([0x81, 0x80 | length]), mask]);
  if (length < 65_536) {
    const head = Buffer.from([0x81, 0x80 | 126, 0, 0]);
    head.writeUInt16BE(length, 2);
    return Buffer.concat([head, mask]);
  }
  const head = Buffer.alloc(10);
  head[0] = 0x81;
  head[1] = 0x80 | 127;
  head.writeBigUInt64BE(BigInt(length), 2);
  return Buffer.concat([head, mask]);
}

/** Parses unmasked server frames (text only; others are skipped). */
function readFrames(buffer: Buffer, texts: string[]): Buffer {
  let offset = 0;
  for (;;) {
    if (buffer.length - offset < 2) break;
    const opcode = (buffer[offset] ?? 0) & 0x0f;
    let length = (buffer[offset + 1] ?? 0) & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      if (buffer.length - offset < 4) break;
      length = buffer.readUInt16BE(offset + 2);
      start = offset + 4;
    } else if (length === 127) {
      if (buffer.length - offset < 10) break;
      length = Number(buffer.readBigUInt64BE(offset + 2));
      start = offset + 10;
    }
    if (buffer.length < start + length) break;
    if (opcode === 1) texts.push(buffer.subarray(start, start + length).toString('utf8'));
    offset = start + length;
  }
  return buffer.subarray(offset);
}

/** Opens a raw WebSocket to `url` (ws://host:port/path). */
export function openRawSocket(url: string): Promise<RawSocket> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const tcp = connect(Number(port), hostname);
    const texts: string[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let upgraded = false;
    const closed = new Promise<void>((done) => tcp.once('close', () => done()));
    tcp.on('error', (error) => {
      if (!upgraded) reject(error);
    });
    tcp.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!upgraded) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = pending.subarray(0, end).toString('latin1');
        pending = pending.subarray(end + 4);
        if (!head.startsWith('HTTP/1.1 101')) {
          reject(new Error(`upgrade refused: ${head.split('\r\n')[0] ?? ''}`));
          tcp.destroy();
          return;
        }
        upgraded = true;
        resolve(socket);
      }
      pending = readFrames(pending, texts);
    });
    const socket: RawSocket = {
      tcp,
      closed,
      texts,
      sendText: (text) => {
        const payload = Buffer.from(text, 'utf8');
        const head = header(payload.length);
        const mask = head.subarray(head.length - 4);
        for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
        tcp.write(Buffer.concat([head, payload]));
      },
      announce: (length) => void tcp.write(header(length)),
      write: (bytes) =>
        new Promise((done) => {
          if (tcp.destroyed) return done(false);
          tcp.write(bytes, (error) => done(error === undefined || error === null));
        }),
      stopReading: () => tcp.pause(),
    };
    tcp.write(
      [`GET ${pathname} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'),
    );
  });
}
