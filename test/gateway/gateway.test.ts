// imagewire as a gateway: its engine is an upstream Runware-compatible service (a second imagewire
// server, or the strict base-protocol emulator), reached through imagewire's own client. Clients of
// the gateway get imagewire's face; the upstream never sees a task twice while it knows it; the
// upstream key shows in no log line and no answer.
import { RunwareServer, type ITextToImage } from '@runware/sdk-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type ImagewireClient } from '../../src/index.js';
import { createUpstreamEngine, type UpstreamEngine } from '../../src/gateway/index.js';
import { costOf, createServer, type ImagewireServer } from '../../src/server/index.js';
import { startRunwareEmulator, type RunwareEmulator } from '../emulator/runware-emulator.js';
import { eventually } from '../helpers/eventually.js';
import { call, fromDataUri } from '../helpers/images-api.js';
import { finalItem, isFinal, RawClient } from '../helpers/raw-client.js';
import { captureLogger, inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

const UPSTREAM_KEY = 'upstream-secret-7f3a9c1e5b';
const request = { positivePrompt: 'a lighthouse at dusk', model: 'runware:101@1', width: 128, height: 128, steps: 2, seed: 1234, numberResults: 1, outputFormat: 'PNG' } as const;

interface Gateway {
  readonly server: TestServer;
  readonly engine: UpstreamEngine;
  readonly logs: ReturnType<typeof captureLogger>;
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of open.reverse()) await item.close();
  open.length = 0;
});

async function gatewayTo(url: string, apiKey = UPSTREAM_KEY, extra: { unavailableAfterMs?: number } = {}): Promise<Gateway> {
  const logs = captureLogger();
  const engine = createUpstreamEngine({ url, apiKey, logger: logs, unavailableAfterMs: extra.unavailableAfterMs ?? 10_000, authRetryAfterMs: 200 });
  const server = await startTestServer({ engine, logger: logs, apiKeys: ['gateway-key'] });
  open.push({ close: async () => { await server.close(); await engine.close(); } });
  return { server, engine, logs };
}

/** The upstream: a plain in-memory imagewire server whatever mode the gateway under test runs in. */
async function upstreamServer(options: { stepDelayMs?: number } = {}): Promise<ImagewireServer> {
  const server = await createServer({ apiKeys: [UPSTREAM_KEY], stepDelayMs: 0, logger: captureLogger(), ...options });
  open.push(server);
  return server;
}

async function emulator(options: Parameters<typeof startRunwareEmulator>[0] = {}): Promise<RunwareEmulator> {
  const emu = await startRunwareEmulator({ apiKeys: [UPSTREAM_KEY], ...options });
  open.push(emu);
  return emu;
}

function clientOf(gateway: Gateway): ImagewireClient {
  const client = createClient({ apiKey: 'gateway-key', url: gateway.server.url, networkEvents: false });
  open.push(client);
  return client;
}

/** Nothing the gateway logged or answered holds the upstream key. */
function expectNoKey(gateway: Gateway, ...answers: unknown[]): void {
  expect(gateway.logs.text()).not.toContain(UPSTREAM_KEY);
  for (const answer of answers) expect(JSON.stringify(answer, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))).not.toContain(UPSTREAM_KEY);
}

describe('a gateway in front of another imagewire server', () => {
  it('passes the upstream image URL through unchanged, with the upstream cost, and previews as they come', async () => {
    const upstream = await upstreamServer({ stepDelayMs: 5 });
    const gateway = await gatewayTo(upstream.url);
    const client = clientOf(gateway);
    const task = client.imageInference({ ...request, steps: 4, outputType: 'URL', includeCost: true, previews: true });
    const kinds: string[] = [];
    for await (const event of task) kinds.push(event.type);
    const [image] = await task.result();
    expect(image?.imageURL?.startsWith(upstream.httpUrl)).toBe(true);
    expect(image?.cost).toBe(costOf(128, 128, 4));
    expect(kinds.filter((kind) => kind === 'preview').length).toBeGreaterThan(0);
    expect(kinds.at(-1)).toBe('final');
    expectNoKey(gateway, image?.item);
  });

  it('delivers inline results as the client asked (base64, binary frames), the same bytes the upstream makes', async () => {
    const upstream = await upstreamServer();
    const gateway = await gatewayTo(upstream.url);
    const direct = createClient({ apiKey: UPSTREAM_KEY, url: upstream.url, networkEvents: false });
    open.push(direct);
    const [expected] = await direct.imageInference({ ...request, outputType: 'base64Data' }).result();
    const client = clientOf(gateway);
    const [binary] = await client.imageInference({ ...request, outputType: 'base64Data' }).result();
    expect(Buffer.from(binary?.bytes ?? []).equals(Buffer.from(expected?.bytes ?? [1]))).toBe(true);
    const raw = await RawClient.connect(gateway.server.url);
    await raw.authenticate('gateway-key');
    const task = inferenceTask({ ...request, outputType: 'dataURI' });
    raw.send([task]);
    const item = finalItem(await raw.waitFor((f) => isFinal(f, task.taskUUID)));
    expect(item.imageDataURI).toBe(`data:image/png;base64,${Buffer.from(expected?.bytes ?? []).toString('base64')}`);
    await raw.close();
  });

  it('cancels upstream when its client cancels, and delivers nothing more', async () => {
    const upstream = await upstreamServer({ stepDelayMs: 100 });
    const gateway = await gatewayTo(upstream.url);
    const raw = await RawClient.connect(gateway.server.url);
    await raw.authenticate('gateway-key');
    await raw.enableExtensions(['cancel']);
    const task = inferenceTask({ ...request, steps: 50, outputType: 'URL' });
    raw.send([task]);
    await eventually(() => upstream.stats().tasksRunning, (n) => n === 1);
    raw.send([{ taskType: 'cancel', taskUUID: task.taskUUID }]);
    await eventually(() => upstream.stats().tasksRunning, (n) => n === 0, 3_000);
    await raw.expectNone((f) => isFinal(f, task.taskUUID), { windowMs: 300 });
    await raw.close();
  });
});

describe('a gateway in front of a base-protocol service (the strict emulator)', () => {
  it('runs each task upstream once under its own taskUUID and gives its clients ack and binary frames', async () => {
    const emu = await emulator();
    const gateway = await gatewayTo(emu.url);
    const raw = await RawClient.connect(gateway.server.url);
    await raw.authenticate('gateway-key');
    await raw.enableExtensions(['ack', 'binaryResults']);
    const task = inferenceTask({ ...request, numberResults: 2, outputType: 'base64Data', includeCost: true });
    raw.send([task]);
    const first = await raw.waitFor((f) => f.kind === 'binary' && f.header.taskUUID === task.taskUUID);
    const second = await raw.waitFor((f) => f.kind === 'binary' && f.header.taskUUID === task.taskUUID, { from: raw.frames.indexOf(first) + 1 });
    expect([first.seq, second.seq]).toEqual([1, 2]);
    expect(first.kind === 'binary' && first.header.cost).toBe(0.0013);
    expect(emu.stats().inferencesAccepted.get(task.taskUUID)).toBe(1);
    await raw.close();
    expectNoKey(gateway, raw.frames);
  });

  it('recovers a task when the upstream connection drops mid-task: getResponse first, never a second submission', async () => {
    const emu = await emulator({ imageDelayMs: 60 });
    const gateway = await gatewayTo(emu.url);
    const client = clientOf(gateway);
    emu.faults.dropAfterResults(1);
    const taskUUID = crypto.randomUUID();
    const images = await client.imageInference({ ...request, taskUUID, numberResults: 3, outputType: 'URL' }).result();
    expect(images.map((image) => image.index)).toEqual([0, 1, 2]);
    expect(new Set(images.map((image) => image.imageURL)).size).toBe(3);
    expect(emu.stats().inferencesAccepted.get(taskUUID)).toBe(1);
    expect(emu.stats().socketsTotal).toBeGreaterThan(1);
  });

  it('reconnects after the upstream restarts, and resubmits only a task the upstream no longer knows', async () => {
    const emu = await emulator({ imageDelayMs: 200 });
    const gateway = await gatewayTo(emu.url);
    const client = clientOf(gateway);
    const taskUUID = crypto.randomUUID();
    const done = client.imageInference({ ...request, taskUUID, numberResults: 1, outputType: 'URL' }).result();
    await eventually(() => emu.stats().inferencesAccepted.get(taskUUID) ?? 0, (n) => n === 1);
    await emu.restart();
    const [image] = await done;
    expect(image?.imageURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/images\//);
    // Once before the restart; the restarted service forgot it (getResponse: not found), so it ran once more, and only once.
    expect(emu.stats().restarts).toBe(1);
    expect(emu.stats().inferencesAccepted.get(taskUUID)).toBe(2);
  });

  it('gives a typed retryable error within the bound while the upstream is down, and works again once it is back', async () => {
    const emu = await emulator();
    const gateway = await gatewayTo(emu.url, UPSTREAM_KEY, { unavailableAfterMs: 400 });
    const client = clientOf(gateway);
    await client.imageInference({ ...request, outputType: 'URL' }).result();
    const port = emu.port;
    await emu.close();
    const started = Date.now();
    const failure = await client.imageInference({ ...request, outputType: 'URL' }).result().then(() => undefined, (error: unknown) => error);
    expect(failure).toMatchObject({ code: 'upstreamUnavailable' });
    expect(Date.now() - started).toBeLessThan(5_000);
    const back = await startRunwareEmulator({ apiKeys: [UPSTREAM_KEY] }, { port });
    open.push(back);
    await eventually(() => gateway.engine.state, (state) => state === 'open', 15_000);
    const [image] = await client.imageInference({ ...request, outputType: 'URL' }).result();
    expect(image?.imageURL).toContain(`:${port}/`);
  });

  it('reports a refused upstream key to the operator once, as one typed error to clients, never the key', async () => {
    const emu = await emulator();
    const wrongKey = `${UPSTREAM_KEY}-wrong`;
    const gateway = await gatewayTo(emu.url, wrongKey);
    const client = clientOf(gateway);
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++) errors.push(await client.imageInference({ ...request, outputType: 'URL' }).result().then(() => undefined, (error: unknown) => error));
    for (const error of errors) expect(error).toMatchObject({ code: 'upstreamAuthFailed' });
    const warnings = gateway.logs.lines.filter((line) => line.message.startsWith('upstream refused'));
    expect(warnings).toHaveLength(1);
    expect(gateway.logs.text()).not.toContain(wrongKey);
    expect(JSON.stringify(errors.map((error) => (error instanceof Error ? { message: error.message, item: (error as { item?: unknown }).item } : error)))).not.toContain(wrongKey);
  });
});

describe("the gateway's other faces", () => {
  it('answers the OpenAI-style images API from the upstream, its preset running on the aliased hosted model', async () => {
    // The upstream knows only a hosted model: imagewire's catalogue id of the preset would be refused.
    const emu = await emulator({ models: ['runware:101@1'] });
    const gateway = await gatewayTo(emu.url);
    const answer = await call(gateway.server.httpUrl, 'POST', '/v1/images/generations', { key: 'gateway-key', body: { prompt: 'a lighthouse', model: 'dreamshaperv7', n: 1, size: '256x256', stream: false } });
    expect(answer.status, answer.text.slice(0, 300)).toBe(200);
    const uri = (answer.json as { data: { b64_json: string }[] }).data[0]?.b64_json ?? '';
    expect(fromDataUri(uri).bytes.byteLength).toBeGreaterThan(0);
    expect([...emu.stats().inferencesAccepted.values()]).toEqual([1]);
    expectNoKey(gateway, answer.text);
  });
});

describe("the gateway's outbound requests", () => {
  it('keeps uploadEndpoint under its own hardening: a private address is refused before anything goes upstream', async () => {
    const emu = await emulator();
    const gateway = await gatewayTo(emu.url);
    const raw = await RawClient.connect(gateway.server.url);
    await raw.authenticate('gateway-key');
    const task = inferenceTask({ ...request, outputType: 'URL', uploadEndpoint: 'http://127.0.0.1:9/put' });
    raw.send([task]);
    const refused = await raw.waitFor((f) => f.kind === 'json' && f.errors.some((error) => error.taskUUID === task.taskUUID));
    expect(refused.kind === 'json' && refused.errors[0]?.parameter).toBe('uploadEndpoint');
    expect(emu.stats().tasksReceived.get(task.taskUUID)).toBeUndefined();
    await raw.close();
  });
});

describe("the gateway's face to the official SDK", () => {
  it('serves @runware/sdk-js as a Runware server would, with results the strict emulator made', async () => {
    const emu = await emulator();
    const gateway = await gatewayTo(emu.url);
    const sdk = new RunwareServer({ apiKey: 'gateway-key', url: gateway.server.url, shouldReconnect: false, globalMaxRetries: 0, timeoutDuration: 10_000 });
    open.push({ close: () => sdk.disconnect() });
    await sdk.ensureConnection();
    const images = (await sdk.imageInference({ positivePrompt: 'a red fox', model: 'runware:101@1', width: 128, height: 128, numberResults: 2, outputType: 'URL', includeCost: true })) as ITextToImage[] | undefined;
    expect(images).toHaveLength(2);
    for (const image of images ?? []) {
      expect(image.imageURL?.startsWith(emu.httpUrl)).toBe(true);
      expect(image.cost).toBe(0.0013);
    }
    expect([...emu.stats().inferencesAccepted.values()]).toEqual([1]);
  });
});

describe('scoped tokens on a gateway', () => {
  it('refuses a task outside the scope and one past the budget before anything goes upstream; the budget counts the upstream cost', async () => {
    const emu = await emulator();
    const gateway = await gatewayTo(emu.url);
    const minted = await call(gateway.server.httpUrl, 'POST', '/v1/tokens', { key: 'gateway-key', body: { scope: { maxNumberResults: 1, budget: 0.002 } } });
    expect(minted.status, minted.text).toBe(200);
    const token = (minted.json as { data: { token: string }[] }).data[0]?.token ?? '';
    const raw = await RawClient.connect(gateway.server.url);
    await raw.authenticate(token);
    const errorOf = async (task: { taskUUID: string }): Promise<string | undefined> => {
      const frame = await raw.waitFor((f) => (f.kind === 'json' && f.errors.some((e) => e.taskUUID === task.taskUUID)) || isFinal(f, task.taskUUID));
      return frame.kind === 'json' ? frame.errors[0]?.code : undefined;
    };
    const tooMany = inferenceTask({ ...request, numberResults: 2, outputType: 'URL' });
    raw.send([tooMany]);
    expect(await errorOf(tooMany)).toBe('outsideTokenScope');
    // 0.0013 per image upstream: two fit under 0.002 of spend-before-the-task, the third does not.
    const runs = [inferenceTask({ ...request, outputType: 'URL' }), inferenceTask({ ...request, outputType: 'URL' }), inferenceTask({ ...request, outputType: 'URL' })];
    const codes: (string | undefined)[] = [];
    for (const task of runs) {
      raw.send([task]);
      codes.push(await errorOf(task));
    }
    expect(codes).toEqual([undefined, undefined, 'budgetExhausted']);
    expect(emu.stats().tasksReceived.get(tooMany.taskUUID)).toBeUndefined();
    expect(emu.stats().tasksReceived.get(runs[2]?.taskUUID ?? '')).toBeUndefined();
    await raw.close();
    expectNoKey(gateway, raw.frames);
  });
});

describe('the upstream engine across a crash of the process running it', () => {
  it('lets a second engine (another worker) take over a task the upstream already runs: recovered, never submitted twice', async () => {
    const emu = await emulator({ imageDelayMs: 150 });
    const engineRequest = { taskUUID: crypto.randomUUID(), model: 'runware:101@1', positivePrompt: 'a harbour', width: 128, height: 128, steps: 2, CFGScale: 7, seed: 99, numberResults: 2, strength: 0.8, outputFormat: 'PNG', outputQuality: 95, acceptsURL: true } as const;
    const first = createUpstreamEngine({ url: emu.url, apiKey: UPSTREAM_KEY });
    const abandoned = (async () => {
      for await (const event of first.generate(engineRequest, { signal: new AbortController().signal })) void event;
    })().catch(() => undefined);
    await eventually(() => emu.stats().inferencesAccepted.get(engineRequest.taskUUID) ?? 0, (n) => n === 1);
    // The worker dies: its connection goes, the task keeps running upstream.
    await first.close();
    await abandoned;
    const second = createUpstreamEngine({ url: emu.url, apiKey: UPSTREAM_KEY });
    open.push(second);
    const finals: number[] = [];
    for await (const event of second.generate(engineRequest, { signal: new AbortController().signal })) if (event.kind === 'final') finals.push(event.index);
    expect(finals.sort()).toEqual([0, 1]);
    expect(emu.stats().inferencesAccepted.get(engineRequest.taskUUID)).toBe(1);
  });
});
