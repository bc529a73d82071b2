// Round-trip measurement shared by the transport benchmarks: sequential latency, and throughput
// with a fixed number of tasks in flight, with the client process's CPU time per task.
import type { ImageInferenceRequest } from '../../src/index.js';
import type { Child } from './child.js';
import { pairedRatio, ratio, spread, type Row } from './report.js';
import { CPU_REQUEST } from './servers.js';

/** The task every round-trip benchmark sends (128x128 is the smallest size the protocol allows). */
export const roundTripRequest: ImageInferenceRequest = { positivePrompt: 'a red fox in the snow', model: 'runware:101@1', width: 128, height: 128, numberResults: 1 };
/** Tasks in flight in the pipelined runs. */
export const DEPTH = 64;

export interface RunStats {
  /** Tasks per second. */
  rate: number;
  /** Latency percentiles, µs. */
  p50: number;
  p99: number;
  /** Client-process CPU (user + system) per task, µs. */
  cpuUs: number;
  /** Server-process CPU per task, µs (set by `withServerCpu`). */
  serverCpuUs?: number;
}

/** Runs `measure` and adds the server child's CPU time per task to its stats. */
export async function withServerCpu(server: Child, count: number, measure: () => Promise<RunStats>): Promise<RunStats> {
  const before = await server.request<NodeJS.CpuUsage>(CPU_REQUEST);
  const stats = await measure();
  const after = await server.request<NodeJS.CpuUsage>(CPU_REQUEST);
  return { ...stats, serverCpuUs: (after.user - before.user + after.system - before.system) / count };
}

function summarise(latencies: Float64Array, count: number, elapsedNs: bigint, cpu: NodeJS.CpuUsage): RunStats {
  const sorted = Array.from(latencies.subarray(0, count)).sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(count - 1, Math.ceil((p / 100) * count) - 1)] ?? Number.NaN;
  return { rate: count / (Number(elapsedNs) / 1e9), p50: at(50), p99: at(99), cpuUs: (cpu.user + cpu.system) / count };
}

/** One task at a time. */
export async function sequential(run: () => Promise<unknown>, count: number): Promise<RunStats> {
  const latencies = new Float64Array(count);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await run();
    latencies[i] = Number(process.hrtime.bigint() - start) / 1e3;
  }
  const elapsed = process.hrtime.bigint() - t0;
  return summarise(latencies, count, elapsed, process.cpuUsage(cpu0));
}

/** `depth` tasks in flight until `count` have finished. */
export async function pipelined(run: () => Promise<unknown>, count: number, depth: number): Promise<RunStats> {
  const latencies = new Float64Array(count);
  let started = 0;
  let finished = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const launch = (): void => {
      const index = started++;
      const start = process.hrtime.bigint();
      run().then(() => {
        latencies[index] = Number(process.hrtime.bigint() - start) / 1e3;
        finished++;
        if (finished === count) resolve();
        else if (started < count) launch();
      }, reject);
    };
    for (let i = 0; i < Math.min(depth, count); i++) launch();
  });
  const elapsed = process.hrtime.bigint() - t0;
  return summarise(latencies, count, elapsed, process.cpuUsage(cpu0));
}

/** Rows for sequential and pipelined stats of imagewire against a baseline. */
export function roundTripRows(seq: { ours: RunStats[]; raw: RunStats[] }, pipe: { ours: RunStats[]; raw: RunStats[] }, baseline: string): Row[] {
  const pick = (list: RunStats[], key: keyof RunStats): number[] => list.map((s) => s[key] ?? Number.NaN);
  const row = (benchmark: string, list: { ours: RunStats[]; raw: RunStats[] }, key: keyof RunStats, digits: number, unit: string, target: string): Row => ({
    benchmark,
    imagewire: spread(pick(list.ours, key), digits, unit),
    baseline: spread(pick(list.raw, key), digits, unit),
    ratio: ratio(pairedRatio(pick(list.ours, key), pick(list.raw, key))),
    target,
  });
  return [
    row(`round trips, sequential p50 (vs ${baseline})`, seq, 'p50', 0, ' µs', baseline === 'raw ws' ? '≤ 1.30x' : ''),
    row(`round trips, sequential p99 (vs ${baseline})`, seq, 'p99', 0, ' µs', ''),
    row(`round trips, sequential tasks/s (vs ${baseline})`, seq, 'rate', 0, '', ''),
    row(`round trips, client CPU per task, sequential (vs ${baseline})`, seq, 'cpuUs', 1, ' µs', ''),
    ...(seq.ours[0]?.serverCpuUs === undefined || seq.raw[0]?.serverCpuUs === undefined
      ? []
      : [row(`round trips, server CPU per task, sequential (vs ${baseline} server)`, seq, 'serverCpuUs', 1, ' µs', '')]),
    row(`round trips, ${DEPTH} in flight tasks/s (vs ${baseline})`, pipe, 'rate', 0, '', baseline === 'raw ws' ? '≥ 0.70x' : ''),
    row(`round trips, ${DEPTH} in flight p50 (vs ${baseline})`, pipe, 'p50', 0, ' µs', ''),
    row(`round trips, ${DEPTH} in flight p99 (vs ${baseline})`, pipe, 'p99', 0, ' µs', ''),
    row(`round trips, client CPU per task, ${DEPTH} in flight (vs ${baseline})`, pipe, 'cpuUs', 1, ' µs', ''),
    ...(pipe.ours[0]?.serverCpuUs === undefined || pipe.raw[0]?.serverCpuUs === undefined
      ? []
      : [row(`round trips, server CPU per task, ${DEPTH} in flight (vs ${baseline} server)`, pipe, 'serverCpuUs', 1, ' µs', '')]),
  ];
}

