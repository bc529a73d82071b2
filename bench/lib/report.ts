// Shared reporting for the bench scripts: summary statistics, the result rows every script hands
// to run-all, and the table they print when run alone.
import os from 'node:os';

/** One line of the table: what was measured, imagewire, its baseline, their ratio and the target. */
export interface Row {
  benchmark: string;
  imagewire: string;
  baseline: string;
  ratio: string;
  target: string;
}

export const quick = process.argv.includes('--quick');
/** run-all passes --rows and reads the rows back from stdout. */
const rowsMode = process.argv.includes('--rows');
const ROWS_PREFIX = '@@rows ';

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** "median [min–max]" over rounds; ranges matter on a shared VM. */
export function spread(values: readonly number[], digits: number, unit = ''): string {
  const fmt = (v: number): string => v.toFixed(digits);
  if (values.length < 2) return `${fmt(values[0] ?? Number.NaN)}${unit}`;
  return `${fmt(median(values))}${unit} [${fmt(Math.min(...values))}–${fmt(Math.max(...values))}]`;
}

export function ratio(value: number, digits = 2): string {
  // Small ratios keep two significant digits instead of rounding to 0.00x.
  return `${value.toFixed(value < 0.1 ? digits + 1 : digits)}x`;
}

export function machineLine(): string {
  const cpus = os.cpus();
  return `machine: ${cpus[0]?.model ?? 'unknown CPU'} x${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}, ${os.platform()} ${os.arch()}`;
}

export function formatTable(rows: readonly Row[]): string {
  const cells = [['benchmark', 'imagewire', 'baseline', 'ratio', 'target'], ...rows.map((r) => [r.benchmark, r.imagewire, r.baseline, r.ratio, r.target])];
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: readonly string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(cells[0] ?? []), rule, ...cells.slice(1).map(line)].join('\n');
}

/** Hands the rows to run-all, or prints them as a table when the script runs alone. */
export function emitRows(rows: readonly Row[]): void {
  if (rowsMode) {
    console.log(ROWS_PREFIX + JSON.stringify(rows));
    return;
  }
  console.log(machineLine());
  console.log(formatTable(rows));
}

/** Reads rows back from a script's stdout. */
export function parseRows(stdout: string): Row[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(ROWS_PREFIX))
    .flatMap((line) => JSON.parse(line.slice(ROWS_PREFIX.length)) as Row[]);
}

/** Progress goes to stderr so it never mixes with rows. */
export function note(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run the bench through bench/run.mjs (it passes --expose-gc)');
  collect();
  collect();
}

/** Runs the variants in rounds, rotating their order, so drift on a shared machine hits all alike. */
export async function rounds<K extends string, T>(count: number, variants: Record<K, () => Promise<T>>): Promise<Record<K, T[]>> {
  const keys = Object.keys(variants) as K[];
  const results = Object.fromEntries(keys.map((k) => [k, [] as T[]])) as Record<K, T[]>;
  for (let round = 0; round < count; round++) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[(i + round) % keys.length] as K;
      results[key].push(await variants[key]());
    }
  }
  return results;
}

/** Median of per-round ratios a/b: pairs measured close in time. */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((v, i) => v / (b[i] ?? Number.NaN)));
}
