// The progress views: bars redrawn on a terminal (fitted to its width, labels aligned for 10+
// images), and throttled lines on any other stream.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressView } from '../../src/cli/progress.js';
import { createProgressLines } from '../../src/cli/progress-lines.js';

function fakeStream(isTTY: boolean, columns = 100): PassThrough & { isTTY: boolean; columns: number; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY, columns, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return Object.assign(stream, { text: () => text });
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The bar lines drawn, without cursor moves and colours. */
function drawnLines(text: string): string[] {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n').split(/[\r\n]+/).filter((line) => line.includes(' image '));
}

describe('createProgressView on a terminal', () => {
  it('moves each image bar by its own preview steps, and follows a changed total', async () => {
    const terminal = fakeStream(true);
    const view = createProgressView(2, 6, terminal);
    view.step(0, 3, 6);
    view.step(1, 1, 8);
    view.done(0);
    view.stop();
    await flush();
    const text = terminal.text();
    expect(text).toMatch(/image 1 \[[^\]]*\] 6\/6 steps/);
    expect(text).toMatch(/image 2 \[[^\]]*\] 1\/8 steps/);
    view.step(5, 1, 6); // an index beyond the bars is ignored
    view.stop();
  });

  it('fits the bars to the width of the terminal and aligns 10 or more images', async () => {
    for (const columns of [120, 50, 30, 24]) {
      const terminal = fakeStream(true, columns);
      const view = createProgressView(12, 20, terminal);
      for (let index = 0; index < 12; index += 1) view.step(index, index + 1, 20);
      view.stop();
      await flush();
      const lines = drawnLines(terminal.text());
      expect(lines.length).toBeGreaterThanOrEqual(12);
      for (const line of lines) expect(line.length).toBeLessThan(columns);
      const last = lines.slice(-12);
      expect(last[0]).toMatch(/^ image {2}1 /);
      expect(last[11]).toMatch(/^ image 12 /);
      // Every label has the same width, and so have the counts: bars and counts line up.
      for (const line of last) expect(line).toMatch(/^ image [ 1]\d (\[[^\]]+\] )?[ 1]\d\/20 steps$/);
      expect(new Set(last.map((line) => line.indexOf('/20'))).size).toBe(1);
      // A bar while there is room for one (at most 40 wide), none on a narrow terminal.
      expect(last.every((line) => line.includes('['))).toBe(columns >= 30);
    }
    // Narrower than the counts: cut, never wrapped.
    const tiny = fakeStream(true, 12);
    const view = createProgressView(12, 20, tiny);
    view.step(0, 3, 20);
    view.stop();
    await flush();
    for (const line of drawnLines(tiny.text())) expect(line.length).toBeLessThan(12);
  });
});

describe('progress lines off a terminal', () => {
  it('createProgressView writes lines, not bars, when the stream is not a terminal', async () => {
    const stream = fakeStream(false);
    const view = createProgressView(2, 4, stream);
    view.step(0, 1, 4);
    view.done(0);
    view.stop();
    await flush();
    expect(stream.text()).toBe('image 1/2: step 1/4\nimage 1/2: step 4/4 (done)\n');
  });

  it('writes the first step at once, then at most one line per image per interval, and always the end', async () => {
    const stream = fakeStream(false);
    let now = 0;
    const view = createProgressLines(12, 10, stream, 500, () => now);
    view.step(0, 1, 10); // written: the first
    now = 200;
    view.step(0, 2, 10); // too soon
    view.step(11, 1, 10); // another image has its own clock
    now = 499;
    view.step(0, 3, 10); // too soon
    now = 700;
    view.step(0, 4, 10); // written
    view.step(0, 10, 10); // the last step: done() says it
    view.done(0);
    view.step(0, 5, 10); // after done: ignored
    view.stop();
    view.done(11); // after stop: ignored
    await flush();
    expect(stream.text()).toBe(['image  1/12: step 1/10', 'image 12/12: step 1/10', 'image  1/12: step 4/10', 'image  1/12: step 10/10 (done)', ''].join('\n'));
  });
});
