// What every progress view of `imagewire generate` offers, whatever it draws on.
export interface ProgressView {
  step(index: number, step: number, steps: number): void;
  done(index: number): void;
  stop(): void;
}

/** The stream a view writes to; `columns` is the terminal's width when it is one. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** The label of image `index` (0-based) of `count`, padded so that 10 or more images align. */
export function imageLabel(index: number, count: number): string {
  return String(index + 1).padStart(String(count).length);
}
