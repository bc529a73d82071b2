// Progress as plain lines for a stream that is not a terminal (a CI log, a pipe, a file), written
// while the run goes on: `image 1/2: step 4/12`, at most one line per image per interval, so a long
// run shows it is alive without flooding a log, and the first step and the end always show.
import { imageLabel, type ProgressStream, type ProgressView } from './progress-view.js';

/** Least time between two progress lines of the same image, ms. */
export const PROGRESS_LINE_INTERVAL_MS = 500;

interface ImageLine {
  step: number;
  total: number;
  /** When its last line was written; undefined before the first. */
  writtenAt: number | undefined;
  done: boolean;
}

/** Lines for `count` images of `steps` steps each. */
export function createProgressLines(count: number, steps: number, stream: ProgressStream, intervalMs = PROGRESS_LINE_INTERVAL_MS, now: () => number = Date.now): ProgressView {
  const images: ImageLine[] = Array.from({ length: count }, () => ({ step: 0, total: steps, writtenAt: undefined, done: false }));
  let stopped = false;
  const write = (index: number, image: ImageLine): void => {
    image.writtenAt = now();
    stream.write(`image ${imageLabel(index, count)}/${count}: step ${image.step}/${image.total}${image.done ? ' (done)' : ''}\n`);
  };
  return {
    step(index, step, total) {
      const image = images[index];
      if (image === undefined || image.done || stopped) return;
      image.step = step;
      image.total = total;
      // The last step is said by done(), which follows it.
      if (step >= total) return;
      if (image.writtenAt === undefined || now() - image.writtenAt >= intervalMs) write(index, image);
    },
    done(index) {
      const image = images[index];
      if (image === undefined || image.done || stopped) return;
      image.done = true;
      image.step = image.total;
      write(index, image);
    },
    stop() {
      stopped = true;
    },
  };
}
