// Progress of `imagewire generate`, one entry per image, driven by preview events (step k of n), on
// standard error: redrawn bars on a terminal, throttled lines anywhere else (a CI log, a pipe).
import cliProgress from 'cli-progress';
import { createProgressLines } from './progress-lines.js';
import { imageLabel, type ProgressStream, type ProgressView } from './progress-view.js';

export type { ProgressStream, ProgressView } from './progress-view.js';

/** Widest bar drawn; cli-progress pre-renders its strings for this size. */
const MAX_BAR = 40;
/** Narrowest bar worth drawing; on a narrower terminal the counts are shown alone. */
const MIN_BAR = 5;

/**
 * One line of a bar, fitted to the terminal's width at every redraw (a resized window is followed):
 * ` image  3 [████░░░░] 4/12 steps`, the bar shrunk or dropped so the line never wraps.
 */
const drawBar: cliProgress.GenericFormatter = (options, params, payload: { label: string }) => {
  const label = ` image ${payload.label}`;
  const counts = `${String(params.value).padStart(String(params.total).length)}/${params.total} steps`;
  // One column is left free: writing into the last one wraps on some terminals.
  const room = params.maxWidth - 1 - label.length - ' [] '.length - counts.length;
  // Too narrow for a bar: the counts alone, cut to the width if even they do not fit.
  if (room < MIN_BAR) return `${label} ${counts}`.slice(0, Math.max(0, params.maxWidth - 1));
  const bar = cliProgress.Format.BarFormat(params.progress, { ...options, barsize: Math.min(MAX_BAR, room) });
  return `${label} [${bar}] ${counts}`;
};

/** Bars on a terminal, redrawn in place. */
function createProgressBars(count: number, steps: number, stream: ProgressStream): ProgressView {
  const multibar = new cliProgress.MultiBar({ stream, format: drawBar, barsize: MAX_BAR, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
  const bars = Array.from({ length: count }, (_, index) => multibar.create(steps, 0, { label: imageLabel(index, count) }));
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

/** Bars for `count` images of `steps` steps each on a terminal; progress lines on any other stream. */
export function createProgressView(count: number, steps: number, stream: ProgressStream = process.stderr): ProgressView {
  return stream.isTTY === true ? createProgressBars(count, steps, stream) : createProgressLines(count, steps, stream);
}
