// Input fetches and uploadEndpoint PUTs are timed on the server's clock: on fake time the deadline
// fires at exactly fetchTimeoutMs / uploadTimeoutMs, and the task answers fetchFailed / uploadFailed.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startHeldHttp, type HeldHttp } from '../helpers/held-http.js';
import { RawClient, isErrorOf } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
let far: HeldHttp | undefined;
afterEach(async () => {
  await server?.close();
  await far?.close();
  server = undefined;
  far = undefined;
});

describe('outbound deadlines on the server clock', () => {
  it('a seedImage URL that never answers fails the task at fetchTimeoutMs, not a millisecond before', async () => {
    far = await startHeldHttp();
    const clock = new FakeClock();
    server = await startTestServer({ allowPrivateNetwork: true, limits: { fetchTimeoutMs: 5_000 }, clock });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ seedImage: `${far.url}/seed.png` });
    client.send([task]);
    await far.received(1);
    await eventually(() => clock.pending, (delays) => delays.includes(5_000));
    clock.advance(4_999);
    expect(far.requests[0]?.abandoned).toBe(false);
    clock.advance(1);
    const frame = await client.waitFor((f) => isErrorOf(f, task.taskUUID));
    expect(frame.kind === 'json' && frame.errors[0]?.code).toBe('fetchFailed');
    await far.abandoned(1);
    await client.close();
  });

  it('an uploadEndpoint that never answers fails the task at uploadTimeoutMs', async () => {
    far = await startHeldHttp();
    const clock = new FakeClock();
    server = await startTestServer({ allowPrivateNetwork: true, limits: { uploadTimeoutMs: 7_000 }, clock });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ uploadEndpoint: `${far.url}/put/result.png` });
    client.send([task]);
    await far.received(1);
    await eventually(() => clock.pending, (delays) => delays.includes(7_000));
    clock.advance(6_999);
    expect(far.requests[0]?.abandoned).toBe(false);
    clock.advance(1);
    const frame = await client.waitFor((f) => isErrorOf(f, task.taskUUID));
    expect(frame.kind === 'json' && frame.errors[0]?.code).toBe('uploadFailed');
    await far.abandoned(1);
    await client.close();
  });
});
