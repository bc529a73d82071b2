// Which steps of a run get a preview when a task asks for a preview count: spread evenly over the
// run and never the last step, whose picture is the final image itself.

/**
 * The steps (1-based, ascending) at which at most `count` previews of a `steps`-step run are made.
 * Fewer come back when the run is too short to spread them (a 1-step run has none).
 * @example previewSteps(25, 3) // [6, 13, 19]
 */
export function previewSteps(steps: number, count: number): number[] {
  const chosen = new Set<number>();
  for (let k = 1; k <= count; k++) {
    const step = Math.round((k * steps) / (count + 1));
    if (step >= 1 && step < steps) chosen.add(step);
  }
  return [...chosen];
}
