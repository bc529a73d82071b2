// The write coalescer on a real loopback TCP pair: the first frame of a turn goes out at once, the
// next ones are corked and written together (at most FRAMES_PER_WRITE per write, the rest at the
// end of the turn), nothing is lost or reordered, and release() writes what is held before a cut.
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FRAMES_PER_WRITE, WriteCoalescer } from '../../src/internal/write-coalescer.js';

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

/** A connected pair: `local` writes, `received()` resolves with everything the peer got once it ends. */
async function tcpPair(): Promise<{ local: Socket; received: () => Promise<string> }> {
  const chunks: Buffer[] = [];
  let ended!: () => void;
  const done = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const listening = createServer((peer) => {
    sockets.push(peer);
    peer.on('data', (chunk: Buffer) => chunks.push(chunk));
    peer.on('end', ended);
    peer.on('close', ended);
  });
  server = listening;
  listening.listen(0, '127.0.0.1');
  await once(listening, 'listening');
  const address = listening.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const local = connect(port, '127.0.0.1');
  sockets.push(local);
  await once(local, 'connect');
  return {
    local,
    received: async () => {
      await done;
      return Buffer.concat(chunks).toString();
    },
  };
}

function frame(i: number): string {
  return `<${i}>`;
}

describe('WriteCoalescer', () => {
  it('sends the first frame of a turn at once, corks the next ones, and writes full batches early', async () => {
    const { local, received } = await tcpPair();
    const writes = new WriteCoalescer();
    const count = 2 * FRAMES_PER_WRITE + 5;
    const corkedAfter: number[] = [];
    for (let i = 0; i < count; i++) {
      writes.beforeWrite(local);
      local.write(frame(i));
      writes.afterWrite(local);
      corkedAfter.push(local.writableCorked);
    }
    // Frame 0 alone, uncorked; frames 1..16 corked, written when the 16th is held; and so on.
    expect(corkedAfter[0]).toBe(0);
    expect(corkedAfter[1]).toBe(1);
    expect(corkedAfter[FRAMES_PER_WRITE - 1]).toBe(1);
    expect(corkedAfter[FRAMES_PER_WRITE]).toBe(0);
    expect(corkedAfter[FRAMES_PER_WRITE + 1]).toBe(1);
    expect(corkedAfter[count - 1]).toBe(1);
    // What the batch holds goes out once the turn's callbacks have run.
    await new Promise((resolve) => setImmediate(resolve));
    expect(local.writableCorked).toBe(0);
    local.end();
    expect(await received()).toBe(Array.from({ length: count }, (_, i) => frame(i)).join(''));
  });

  it('starts a new turn uncorked', async () => {
    const { local, received } = await tcpPair();
    const writes = new WriteCoalescer();
    for (let turn = 0; turn < 3; turn++) {
      for (let i = 0; i < 3; i++) {
        writes.beforeWrite(local);
        local.write(frame(turn * 3 + i));
        writes.afterWrite(local);
        expect(local.writableCorked).toBe(i === 0 ? 0 : 1);
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(local.writableCorked).toBe(0);
    }
    local.end();
    expect(await received()).toBe(Array.from({ length: 9 }, (_, i) => frame(i)).join(''));
  });

  it('writes what is held before a cut when released, and close() cancels the end-of-turn flush', async () => {
    const { local, received } = await tcpPair();
    const writes = new WriteCoalescer();
    for (let i = 0; i < 5; i++) {
      writes.beforeWrite(local);
      local.write(frame(i));
      writes.afterWrite(local);
    }
    expect(local.writableCorked).toBe(1);
    writes.release(local);
    expect(local.writableCorked).toBe(0);
    writes.close();
    local.end();
    expect(await received()).toBe('<0><1><2><3><4>');
  });
});
