// What an engine's finals may carry beyond bytes: a URL where the image already lives (only when the
// request accepts one), the cost it reported and its NSFW verdict; the server passes them on as is.
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine, EngineEvent, EngineRequest } from '../../src/engine/index.js';
import { randomImage } from '../helpers/fixed-engine.js';
import { startHttpFixture } from '../helpers/http-fixture.js';
import { finalItem, isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

const REMOTE = 'https://cdn.upstream.example/images/5a0d7c6e.png';
const image = randomImage(2048);

/** Answers with a URL whenever the request accepts one (or always, when `urlAlways`), with a reported cost. */
function urlEngine(seen: EngineRequest[], urlAlways = false): Engine {
  return {
    name: 'remote',
    models: () => [],
    hasModel: () => true,
    async *generate(request: EngineRequest): AsyncGenerator<EngineEvent, void, undefined> {
      seen.push(request);
      for (let index = 0; index < request.numberResults; index++) {
        const common = { kind: 'final', index, seed: 7, format: 'PNG', width: request.width, height: request.height, cost: 0.0042, NSFWContent: true } as const;
        yield request.acceptsURL === true || urlAlways ? { ...common, imageURL: `${REMOTE}?i=${index}` } : { ...common, image };
      }
    },
  };
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('engine finals', () => {
  it('passes an engine URL on unchanged for URL outputs, with its cost and NSFW verdict, and keeps it for getResponse', async () => {
    const seen: EngineRequest[] = [];
    server = await startTestServer({ engine: urlEngine(seen) });
    const { client } = await RawClient.authenticated(server.url, 'key');
    const task = inferenceTask({ outputType: 'URL', includeCost: true, checkNSFW: true, numberResults: 2 });
    client.send([task]);
    const first = finalItem(await client.waitFor((f) => isFinal(f, task.taskUUID)));
    expect(seen[0]?.acceptsURL).toBe(true);
    expect(first.imageURL).toBe(`${REMOTE}?i=0`);
    expect(first.cost).toBe(0.0042);
    expect(first.NSFWContent).toBe(true);
    await client.waitFor((f) => isFinal(f, task.taskUUID) && finalItem(f).index === 1);
    client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    const answer = await client.waitFor((f) => f.kind === 'json' && f.data.some((item) => item.taskType === 'getResponse' || (item.taskUUID === task.taskUUID && item.status === 'success')));
    expect(answer.kind === 'json' && answer.data.map((item) => item.imageURL)).toEqual([`${REMOTE}?i=0`, `${REMOTE}?i=1`]);
    await client.close();
  });

  it('asks for bytes for inline outputs and for an uploadEndpoint', async () => {
    const seen: EngineRequest[] = [];
    await using sink = await startHttpFixture();
    server = await startTestServer({ engine: urlEngine(seen), allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url, 'key');
    const inline = inferenceTask({ outputType: 'base64Data' });
    const uploaded = inferenceTask({ outputType: 'URL', uploadEndpoint: `${sink.url}/put` });
    client.send([inline, uploaded]);
    const a = finalItem(await client.waitFor((f) => isFinal(f, inline.taskUUID)));
    const b = finalItem(await client.waitFor((f) => isFinal(f, uploaded.taskUUID)));
    expect(seen.map((request) => request.acceptsURL)).toEqual([undefined, undefined]);
    expect(a.imageBase64Data).toBe(Buffer.from(image).toString('base64'));
    expect(String(b.imageURL)).toContain('/images/');
    await client.close();
  });

  it('fails the task, not the server, when an engine gives a URL where bytes are needed', async () => {
    server = await startTestServer({ engine: urlEngine([], true) });
    const { client } = await RawClient.authenticated(server.url, 'key');
    const task = inferenceTask({ outputType: 'dataURI' });
    client.send([task]);
    const failed = await client.waitFor((f) => f.kind === 'json' && f.errors.some((error) => error.taskUUID === task.taskUUID));
    expect(failed.kind === 'json' && failed.errors[0]?.code).toBe('internalServerError');
    const next = inferenceTask({ outputType: 'URL' });
    client.send([next]);
    expect(finalItem(await client.waitFor((f) => isFinal(f, next.taskUUID))).imageURL).toBe(`${REMOTE}?i=0`);
    await client.close();
  });
});
