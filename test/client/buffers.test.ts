// The bounded structures: the outbox (count and bytes, O(1) removal, a failed flush kept in place), the ack tracker (duplicates
// dropped, acknowledgement cadence), the event buffer (finals kept, previews latest-wins per index).
import { describe, expect, it } from 'vitest';
import { AckTracker } from '../../src/client/connection/ack-tracker.js';
import { EventBuffer } from '../../src/client/tasks/event-buffer.js';
import { QueueFullError } from '../../src/client/index.js';
import { Outbox } from '../../src/client/connection/outbox.js';

function entry(text: string) {
  return { encode: () => text, bytes: text.length };
}

describe('Outbox', () => {
  it('refuses beyond its frame count and its byte size, and never drops silently', () => {
    const outbox = new Outbox({ maxFrames: 2, maxBytes: 10 });
    outbox.push(entry('aaaa'));
    expect(() => outbox.push(entry('bbbbbbbbb'))).toThrow(QueueFullError);
    outbox.push(entry('cccc'));
    expect(() => outbox.push(entry('d'))).toThrow(/maxFrames/);
    expect([outbox.size, outbox.bytes]).toEqual([2, 8]);
  });

  it('drains in order and lets an entry leave early', () => {
    const outbox = new Outbox({ maxFrames: 10, maxBytes: 100 });
    outbox.push(entry('a'));
    const removeB = outbox.push(entry('b'));
    outbox.push(entry('c'));
    removeB();
    removeB();
    expect(outbox.bytes).toBe(2);
    expect(outbox.drain().map((e) => e.encode())).toEqual(['a', 'c']);
    expect([outbox.size, outbox.bytes]).toEqual([0, 0]);
  });

  it('keeps what a failed flush did not write in place, so its owners can still take it out', () => {
    const outbox = new Outbox({ maxFrames: 10, maxBytes: 100 });
    outbox.push(entry('a'));
    const removeB = outbox.push(entry('bb'));
    outbox.push(entry('c'));
    const written: string[] = [];
    // The socket fails at the second frame: it and the third wait for the next connection.
    outbox.flush((next) => {
      if (written.length === 1) return false;
      written.push(next.encode());
      return true;
    });
    expect(written).toEqual(['a']);
    expect([outbox.size, outbox.bytes]).toEqual([2, 3]);
    // The task of the second frame ended meanwhile: its frame must never be sent.
    removeB();
    expect(outbox.drain().map((e) => e.encode())).toEqual(['c']);
  });
});

describe('AckTracker', () => {
  it('drops a sequence number seen before and counts what is unacknowledged', () => {
    const ack = new AckTracker();
    expect([1, 2, 3].map((seq) => ack.accept(seq))).toEqual([true, true, true]);
    expect(ack.accept(2)).toBe(false);
    expect(ack.unacknowledged).toBe(3);
    expect(ack.acknowledge()).toBe(3);
    expect(ack.unacknowledged).toBe(0);
    expect(ack.accept(3)).toBe(false);
    expect(ack.accept(4)).toBe(true);
    ack.reset();
    expect(ack.accept(1)).toBe(true);
  });
});

describe('EventBuffer', () => {
  async function drain<T>(buffer: EventBuffer<T>): Promise<T[]> {
    const out: T[] = [];
    for (;;) {
      const next = await buffer.next();
      if (next.done === true) return out;
      out.push(next.value);
    }
  }

  it('keeps one unread preview per key, in place, and every final', async () => {
    const buffer = new EventBuffer<string>();
    for (let step = 1; step <= 100; step++) {
      buffer.pushLatest(0, `p0@${step}`);
      buffer.pushLatest(1, `p1@${step}`);
    }
    expect(buffer.length).toBe(2);
    buffer.push('f1');
    buffer.dropLatest(1);
    buffer.end();
    expect(await drain(buffer)).toEqual(['p0@100', 'f1']);
  });

  it('discards the unread events it is told to, and a later preview of a discarded key takes a new slot', async () => {
    const buffer = new EventBuffer<string>();
    buffer.push('old:start');
    buffer.pushLatest(0, 'old:p0');
    buffer.push('new:start');
    buffer.discard((event) => event.startsWith('old:'));
    expect(buffer.length).toBe(1);
    buffer.pushLatest(0, 'new:p0');
    buffer.pushLatest(0, 'new:p0b');
    buffer.end();
    expect(await drain(buffer)).toEqual(['new:start', 'new:p0b']);
  });

  it('delivers what is buffered before the error, then throws it once', async () => {
    const buffer = new EventBuffer<string>();
    buffer.push('a');
    buffer.end({ value: new Error('boom') });
    expect(await buffer.next()).toEqual({ done: false, value: 'a' });
    await expect(buffer.next()).rejects.toThrow('boom');
    expect(await buffer.next()).toEqual({ done: true, value: undefined });
  });

  it('wakes a waiting reader', async () => {
    const buffer = new EventBuffer<number>();
    const pending = buffer.next();
    buffer.push(7);
    expect(await pending).toEqual({ done: false, value: 7 });
    const ending = buffer.next();
    buffer.end();
    expect(await ending).toEqual({ done: true, value: undefined });
  });

  it('stays bounded under a producer much faster than the reader', async () => {
    const buffer = new EventBuffer<number>();
    let maxLength = 0;
    for (let i = 0; i < 10_000; i++) {
      buffer.pushLatest(i % 4, i);
      maxLength = Math.max(maxLength, buffer.length);
      if (i % 1000 === 0) await buffer.next();
    }
    expect(maxLength).toBeLessThanOrEqual(4);
  });
});
