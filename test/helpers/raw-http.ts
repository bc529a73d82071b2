// Raw TCP for tests that must send what no HTTP or WebSocket client would: malformed request lines,
// trickled headers, hand-made upgrades and client frames with a length announced but not sent.
import { connect, type Socket } from 'node:net';

/** A TCP connection to 127.0.0.1:port that records everything it receives. */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves once the server closed or cut the connection. */
  readonly ended: Promise<void>;
  /** True once the connection ended. */
  readonly isEnded: boolean;
}

export async function rawConnect(port: number, options: { localAddress?: string } = {}): Promise<RawConnection> {
  const socket = connect({ host: '127.0.0.1', port, ...options });
  const chunks: Buffer[] = [];
  let isEnded = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve) => {
    socket.on('close', () => {
      isEnded = true;
      resolve();
    });
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => Buffer.concat(chunks),
    ended,
    get isEnded() {
      return isEnded;
    },
  };
}

/** The status code of the first HTTP response in `bytes`, or undefined before one arrived. */
export function statusOf(bytes: Buffer): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(bytes.toString('latin1'));
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The request head of a WebSocket upgrade of `target`. */
export function upgradeRequest(port: number, target = '/v1', headers: Record<string, string> = {}): string {
  const lines = [`GET ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Opens a connection and completes a WebSocket handshake by hand; resolves once 101 arrived. */
export async function rawWebSocket(port: number, options: { localAddress?: string } = {}): Promise<RawConnection> {
  const connection = await rawConnect(port, options);
  connection.socket.write(upgradeRequest(port));
  for (;;) {
    const text = connection.received().toString('latin1');
    if (text.includes('\r\n\r\n')) {
      if (statusOf(connection.received()) !== 101) throw new Error(`upgrade refused: ${text.split('\r\n')[0] ?? ''}`);
      return connection;
    }
    if (connection.isEnded) throw new Error('connection ended during the handshake');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The header of a masked client frame (FIN set) announcing `length` payload bytes; the mask key is all zero, so the payload goes as it is. */
export function clientFrameHeader(opcode: number, length: number): Buffer {
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | length]);
  } else if (length < 65_536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, Buffer.alloc(4)]);
}

/** A whole masked client text frame. */
export function clientTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  return Buffer.concat([clientFrameHeader(0x1, payload.length), payload]);
}

/** The close code of the first close frame the server sent after the handshake, if any. */
export function closeCodeOf(bytes: Buffer): number | undefined {
  let offset = bytes.indexOf('\r\n\r\n') + 4;
  if (offset < 4) return undefined;
  while (offset + 2 <= bytes.length) {
    const opcode = (bytes[offset] ?? 0) & 0x0f;
    let length = (bytes[offset + 1] ?? 0) & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(start));
      start += 8;
    }
    if (opcode === 0x8) return start + 2 <= bytes.length ? bytes.readUInt16BE(start) : undefined;
    offset = start + length;
  }
  return undefined;
}

/** Writes `chunk`, waiting for the socket to take it; false when the socket ended or failed first. */
export function writeAndWait(socket: Socket, chunk: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed || !socket.writable) {
      resolve(false);
      return;
    }
    const done = (ok: boolean): void => {
      socket.off('close', onClose);
      resolve(ok);
    };
    const onClose = (): void => done(false);
    socket.once('close', onClose);
    socket.write(chunk, (error) => done(error === undefined || error === null));
  });
}
