// Runs a server suite against cluster mode: with IMAGEWIRE_TEST_BACKEND=redis (the `cluster` vitest
// project sets it), startTestServer gives every server `redis` on one redis-server per test file,
// each server under its own key prefix, so the suite's servers stay as separate as in memory.
import { startRedis, type TestRedis } from './redis-server.js';

/** True when this test process runs the suites against cluster mode. */
export const clusterMode = process.env.IMAGEWIRE_TEST_BACKEND === 'redis';

let redis: Promise<TestRedis> | undefined;
let servers = 0;

/** The Redis options of the next server in cluster mode (one Redis per file, a prefix per server); undefined in memory mode. */
export async function clusterOptions(): Promise<{ redis: string; keyPrefix: string } | undefined> {
  if (!clusterMode) return undefined;
  redis ??= startRedis().then((started) => {
    // Stopped with the test process (each file runs in its own fork).
    process.once('exit', () => {
      started.kill('SIGKILL').catch(() => undefined);
    });
    return started;
  });
  const { url } = await redis;
  servers++;
  return { redis: url, keyPrefix: `t${servers}:` };
}
