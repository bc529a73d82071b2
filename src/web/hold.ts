// Which picture the live page's canvas keeps while the prompt changes: the last good one stays until a
// newer request's preview has come at least as far, so the first steps of a task that replaced another
// never paint over a picture that was further along.

/** A picture on the canvas, or one that could be: the request it answers and how far along it is. */
export interface Painted {
  /** The live session's seq of the request. */
  readonly seq: number;
  /** step / steps for a preview, 1 for a final. */
  readonly progress: number;
}

/**
 * From this share of its steps on, a preview replaces anything, a final of the previous prompt too:
 * otherwise an edit after a finished picture would show nothing of the new prompt until its final,
 * however long that takes. By then a diffusion model's preview (and the procedural engine's) shows
 * the new picture's layout and colours.
 */
export const GOOD_ENOUGH_PROGRESS = 0.25;

/** True when `next` may replace `shown` on the canvas. */
export function mayReplace(shown: Painted | undefined, next: Painted): boolean {
  if (shown === undefined || next.seq === shown.seq) return true;
  return next.progress >= Math.min(shown.progress, GOOD_ENOUGH_PROGRESS);
}
