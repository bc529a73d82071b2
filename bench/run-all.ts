// Runs every benchmark, each in its own process (so one's memory or sockets never skew another),
// and prints one table with the machine it ran on. Each row compares imagewire with its baseline
// measured in the same run. `--quick` makes every benchmark a short smoke run.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { runBundle } from './bundle.js';
import { formatTable, machineLine, parseRows, quick, ratio, type Row } from './lib/report.js';

const benchmarks = ['round-trips', 'official-sdk', 'large-results', 'resume', 'memory', 'engine'];
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
const [ours, official] = await runBundle();
if (ours && official) {
  rows.push({
    benchmark: 'browser bundle, gzip (vs @runware/sdk-js)',
    imagewire: `${(ours.gzipBytes / 1024).toFixed(2)} KiB`,
    baseline: `${(official.gzipBytes / 1024).toFixed(2)} KiB`,
    ratio: ratio(ours.gzipBytes / official.gzipBytes),
    target: '≤ 8 KiB',
  });
  rows.push({
    benchmark: 'browser bundle, minified (vs @runware/sdk-js)',
    imagewire: `${(ours.minBytes / 1024).toFixed(1)} KiB`,
    baseline: `${(official.minBytes / 1024).toFixed(1)} KiB`,
    ratio: ratio(ours.minBytes / official.minBytes),
    target: '',
  });
}
console.log(machineLine());
console.log(formatTable(rows));
process.exitCode = rows.some((r) => r.benchmark.includes(': failed')) ? 1 : 0;
