// `imagewire serve`'s action: one line on start, keys from options or IMAGEWIRE_API_KEYS, the
// private-network opt-in, and a graceful stop on SIGINT/SIGTERM.
import { describe, expect, it } from 'vitest';
import { resolveApiKeys, runServe } from '../../src/cli/serve.js';
import { solidPng, startHttpFixture } from '../helpers/http-fixture.js';
import { isAbout, RawClient } from '../helpers/raw-client.js';
import { captureLogger, inferenceTask } from '../helpers/test-server.js';

describe('runServe', () => {
  it('prints exactly one line with the URL and serves there', async () => {
    const lines: string[] = [];
    const { server, stop } = await runServe({ port: 0, stepDelayMs: 0, apiKeys: ['k'], print: (line) => lines.push(line), handleSignals: false, logger: false });
    expect(lines).toEqual([`imagewire listening on ${server.url}, live page at ${server.pageUrl ?? ''}`]);
    expect(server.pageUrl).toMatch(new RegExp(`^${server.httpUrl}/#secret=[A-Za-z0-9_-]{43}$`));
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v1$/);
    const { client } = await RawClient.authenticated(server.url, 'k');
    await client.close();
    await stop();
    await stop();
  });

  it('leaves the page part out of its line without the page', async () => {
    const lines: string[] = [];
    const { server, stop } = await runServe({ port: 0, page: false, print: (line) => lines.push(line), handleSignals: false, logger: false });
    expect(lines).toEqual([`imagewire listening on ${server.url}`]);
    expect((await fetch(`${server.httpUrl}/`)).status).toBe(404);
    await stop();
  });

  it('reads keys from IMAGEWIRE_API_KEYS when none are given', async () => {
    expect(resolveApiKeys(undefined, { IMAGEWIRE_API_KEYS: ' a, b ,,c ' })).toEqual(['a', 'b', 'c']);
    expect(resolveApiKeys(['x'], { IMAGEWIRE_API_KEYS: 'a' })).toEqual(['x']);
    expect(resolveApiKeys([], {})).toEqual([]);
    const { server, stop } = await runServe({ print: () => undefined, handleSignals: false, env: { IMAGEWIRE_API_KEYS: 'env-key' }, logger: false });
    const refused = await RawClient.connect(server.url);
    refused.send([{ taskType: 'authentication', apiKey: 'other' }]);
    await refused.waitFor((f) => f.kind === 'json' && f.errors[0]?.code === 'invalidApiKey');
    const { client } = await RawClient.authenticated(server.url, 'env-key');
    await client.close();
    await refused.close();
    await stop();
  });

  it('passes --allowed-origin on to the server', async () => {
    const { server, stop } = await runServe({ port: 0, page: false, allowedOrigins: ['http://localhost:5173'], print: () => undefined, handleSignals: false, env: {}, logger: false });
    const ping = (origin: string): Promise<number> =>
      fetch(`${server.httpUrl}/v1`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify([{ taskType: 'authentication', apiKey: 'k' }, { taskType: 'ping', ping: true }]) }).then((r) => r.status);
    expect(await ping('http://localhost:5173')).toBe(200);
    expect(await ping('http://localhost:5174')).toBe(403);
    await stop();
  });

  it('warns on stderr (the logger) when open mode listens beyond loopback', async () => {
    const logger = captureLogger();
    const { stop } = await runServe({ host: '0.0.0.0', print: () => undefined, handleSignals: false, env: {}, logger });
    await stop();
    // Beyond loopback /metrics is open too (no metrics token): a second warning.
    expect(logger.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([expect.stringContaining('open mode'), expect.stringContaining('/metrics is open')]);
    const quiet = captureLogger();
    const local = await runServe({ print: () => undefined, handleSignals: false, env: {}, logger: quiet });
    await local.stop();
    expect(quiet.lines.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('passes allowPrivateNetwork on, with a warning; without it loopback URLs are refused', async () => {
    const target = await startHttpFixture();
    target.route('/seed.png', await solidPng(128, 128, '#0000ff'), { contentType: 'image/png' });
    try {
      for (const allowPrivateNetwork of [false, true]) {
        const logger = captureLogger();
        const { server, stop } = await runServe({ port: 0, stepDelayMs: 0, allowPrivateNetwork, print: () => undefined, handleSignals: false, env: {}, logger });
        const { client } = await RawClient.authenticated(server.url);
        const task = inferenceTask({ seedImage: `${target.url}/seed.png`, strength: 0 });
        client.send([task]);
        const frame = await client.waitFor((f) => isAbout(f, task.taskUUID));
        const code = frame.kind === 'json' ? frame.errors[0]?.code : undefined;
        expect(code).toBe(allowPrivateNetwork ? undefined : 'fetchFailed');
        const warnings = logger.lines.filter((line) => line.level === 'warn' && line.message.startsWith('private network allowed'));
        expect(warnings).toHaveLength(allowPrivateNetwork ? 1 : 0);
        await client.close();
        await stop();
      }
      expect(target.requests.map((r) => r.path)).toEqual(['/seed.png']);
    } finally {
      await target.close();
    }
  });

  it('shuts down gracefully on SIGTERM, closing sockets with 1001', async () => {
    const before = process.listenerCount('SIGTERM');
    const beforeInt = process.listenerCount('SIGINT');
    const { server, stop } = await runServe({ print: () => undefined, logger: false });
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    const { client } = await RawClient.authenticated(server.url);
    process.emit('SIGTERM');
    expect((await client.waitForClose()).code).toBe(1001);
    await stop();
    expect(process.listenerCount('SIGTERM')).toBe(before);
    expect(process.listenerCount('SIGINT')).toBe(beforeInt);
  });
});
