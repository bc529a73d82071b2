// Runs every benchmark, each in its own process (so one's memory or sockets never skew another),
// and prints one table with the machine it ran on. Each row compares imagewire with its baseline
// measured in the same run. `--quick` makes every benchmark a short smoke run.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { bundleRows } from './bundle.js';
import { formatTable, machineLine, parseRows, quick, type Row } from './lib/report.js';

const benchmarks = ['round-trips', 'official-sdk', 'large-results', 'resume', 'memory', 'engine', 'frame-decoding', 'attacks', 'tokens', 'cluster-store', 'cluster-worker', 'cluster', 'gateway'];
const dir = dirname(process.argv[1] ?? '.');
const rows: Row[] = [];
for (const name of benchmarks) {
  process.stderr.write(`${name}...\n`);
  const args = ['--expose-gc', join(dir, `${name}.js`), '--rows', ...(quick ? ['--quick'] : [])];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    rows.push({ benchmark: `${name}: failed (exit ${result.status ?? result.signal})`, imagewire: '', baseline: '', ratio: '', target: '' });
    continue;
  }
  rows.push(...parseRows(result.stdout));
}
rows.push(...(await bundleRows()));
console.log(machineLine());
console.log(formatTable(rows));
process.exitCode = rows.some((r) => r.benchmark.includes(': failed')) ? 1 : 0;
