// The progress view draws one bar per image from preview steps (step k of n) on a terminal.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressView } from '../../src/cli/progress.js';

function fakeTerminal(): PassThrough & { isTTY: boolean; columns: number; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return Object.assign(stream, { text: () => text });
}

describe('createProgressView', () => {
  it('moves each image bar by its own preview steps, and follows a changed total', async () => {
    const terminal = fakeTerminal();
    const view = createProgressView(2, 6, terminal);
    view.step(0, 3, 6);
    view.step(1, 1, 8);
    view.done(0);
    view.stop();
    await new Promise((resolve) => setImmediate(resolve));
    const text = terminal.text();
    expect(text).toMatch(/image 1 \[[^\]]*\] 6\/6 steps/);
    expect(text).toMatch(/image 2 \[[^\]]*\] 1\/8 steps/);
    view.step(5, 1, 6); // an index beyond the bars is ignored
    view.stop();
  });
});
