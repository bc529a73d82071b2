// A cluster node while Redis is killed and restarted (AOF kept): a task sent meanwhile gets the typed,
// retryable `serviceUnavailable` promptly, the node keeps serving, and afterwards everything works
// again without restarting the node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, isFinal } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';
import { redisAvailable, startRedis, type TestRedis } from '../helpers/redis-server.js';

describe.runIf(redisAvailable())('a cluster node through a Redis outage', () => {
  let redis: TestRedis;
  let node: TestServer;

  beforeAll(async () => {
    redis = await startRedis();
    node = await startTestServer({ redis: redis.url });
  });
  afterAll(async () => {
    await node.close();
    await redis.close();
  });

  it('answers serviceUnavailable during the outage and runs tasks again after it', async () => {
    const { client, auth } = await RawClient.authenticated(node.url, 'k', { extensions: ['ack'] });
    const before = inferenceTask();
    client.send([before]);
    await client.waitFor((f) => isFinal(f, before.taskUUID));

    await redis.kill('SIGKILL');
    const during = inferenceTask();
    client.send([during]);
    const refused = await client.waitFor((f) => f.kind === 'json' && f.errors[0]?.taskUUID === during.taskUUID, { timeoutMs: 10_000 });
    expect(refused.kind === 'json' && refused.errors[0]).toMatchObject({ code: 'serviceUnavailable', taskType: 'imageInference' });
    // A new connection is refused the same way, and the socket stays usable.
    const other = await RawClient.connect(node.url);
    other.send([{ taskType: 'authentication', apiKey: 'k' }]);
    const authRefused = await other.waitFor((f) => f.kind === 'json' && f.errors.length > 0, { timeoutMs: 10_000 });
    expect(authRefused.kind === 'json' && authRefused.errors[0]).toMatchObject({ code: 'serviceUnavailable', taskType: 'authentication' });
    await other.close();

    await redis.restart();
    // Resend until the node's connections are back (a retryable error says: send again shortly).
    let after = inferenceTask();
    for (let attempt = 0; attempt < 40; attempt++) {
      client.send([after]);
      const answer = await client.waitFor((f) => isFinal(f, after.taskUUID) || (f.kind === 'json' && f.errors[0]?.taskUUID === after.taskUUID), { timeoutMs: 10_000 });
      if (isFinal(answer, after.taskUUID)) break;
      expect(answer.kind === 'json' && answer.errors[0]?.code).toBe('serviceUnavailable');
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = inferenceTask();
    }
    expect(client.frames.some((f) => isFinal(f, after.taskUUID))).toBe(true);
    // The session survived in the AOF: a resume on a new socket finds it.
    const again = await RawClient.connect(node.url);
    const resumed = await again.authenticate('k', { connectionSessionUUID: auth.connectionSessionUUID, extensions: ['ack'] });
    expect(resumed.resumed).toBe(true);
    await again.close();
    await client.close();
  }, 60_000);
});
