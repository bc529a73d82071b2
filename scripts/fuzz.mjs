// The long fuzz run: the suite's server fuzz test with many more cases per property.
// Usage: npm run fuzz [-- --runs 2000] [-- --seed 42]   (npm test runs a short default)
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1000' }, seed: { type: 'string' } } });
const env = { ...process.env, IMAGEWIRE_FUZZ_RUNS: values.runs };
if (values.seed !== undefined) env.IMAGEWIRE_FUZZ_SEED = values.seed;
// Each property gets about a second per 4 cases; the test's own timeouts scale with the run count.
const result = spawnSync('npx', ['vitest', 'run', 'test/fuzz'], { stdio: 'inherit', env });
process.exitCode = result.status ?? 1;
