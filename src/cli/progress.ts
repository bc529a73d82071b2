// One progress bar per image, driven by preview events (step k of n), on standard error.
import cliProgress from 'cli-progress';

export interface ProgressView {
  step(index: number, step: number, steps: number): void;
  done(index: number): void;
  stop(): void;
}

/** Bars for `count` images of `steps` steps each; a non-TTY stream gets no redraws, only the end. */
export function createProgressView(count: number, steps: number, stream: NodeJS.WritableStream = process.stderr): ProgressView {
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: ' image {index} [{bar}] {value}/{total} steps',
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = Array.from({ length: count }, (_, index) => {
    const bar = multibar.create(steps, 0, { index: index + 1 });
    // Off a TTY, cli-progress never starts a bar, so total and payload must be set explicitly.
    bar.setTotal(steps);
    bar.update(0, { index: index + 1 });
    return bar;
  });
  let stopped = false;
  return {
    step(index, step, total) {
      const bar = bars[index];
      if (bar === undefined) return;
      if (bar.getTotal() !== total) bar.setTotal(total);
      bar.update(step);
    },
    done(index) {
      const bar = bars[index];
      if (bar !== undefined) bar.update(bar.getTotal());
    },
    stop() {
      if (stopped) return;
      stopped = true;
      multibar.stop();
    },
  };
}
