// Session tokens: POST /v1/tokens mints them for a key's owner; WebSocket and POST /v1 accept them
// in place of the key; expired and tampered tokens are refused with distinct codes.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/index.js';
import { TokenIssuer } from '../../src/server/auth/tokens.js';
import { isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Minted {
  token: string;
  expiresAt: string;
  ttlSeconds: number;
}

async function post(url: string, body: string | undefined, key: string | undefined): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

async function mint(target: TestServer, key: string, body?: unknown): Promise<Minted> {
  const answer = await post(`${target.httpUrl}/v1/tokens`, body === undefined ? undefined : JSON.stringify(body), key);
  expect(answer.status).toBe(200);
  return (answer.json.data as Minted[])[0] as Minted;
}

async function httpTasks(target: TestServer, credential: string, tasks: unknown[]): Promise<{ status: number; json: Record<string, unknown> }> {
  return post(`${target.httpUrl}/v1`, JSON.stringify(tasks), credential);
}

describe('POST /v1/tokens', () => {
  it('mints a token with the default lifetime, uncacheable', async () => {
    server = await startTestServer({ apiKeys: ['k1'] });
    const before = Date.now();
    const answer = await post(`${server.httpUrl}/v1/tokens`, undefined, 'k1');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const minted = (answer.json.data as Minted[])[0] as Minted;
    expect(minted.token).toMatch(/^iwt_[A-Za-z0-9_-]+$/);
    expect(minted.ttlSeconds).toBe(600);
    const expires = Date.parse(minted.expiresAt);
    expect(expires).toBeGreaterThan(before + 590_000);
    expect(expires).toBeLessThan(before + 610_000);
  });

  it('lets a token stand in for the key on the WebSocket and POST /v1', async () => {
    server = await startTestServer({ apiKeys: ['k1'] });
    const { token } = await mint(server, 'k1', { ttlSeconds: 60 });
    const raw = await RawClient.connect(server.url);
    expect((await raw.authenticate(token)).connectionSessionUUID).toBeTypeOf('string');
    const task = inferenceTask();
    raw.send([task]);
    await raw.waitFor((frame) => isFinal(frame, task.taskUUID));
    await raw.close();
    const http = await httpTasks(server, token, [inferenceTask()]);
    expect(http.status).toBe(200);
    expect((http.json.data as unknown[]).length).toBe(1);
  });

  it('works with the client, whose async key provider fetches a token at each authentication', async () => {
    server = await startTestServer({ apiKeys: ['k1'] });
    const target = server;
    let fetched = 0;
    const client = createClient({
      url: target.url,
      apiKey: async () => {
        fetched++;
        return (await mint(target, 'k1', { ttlSeconds: 30 })).token;
      },
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    });
    try {
      const images = await client.imageInference({ positivePrompt: 'a token fox', model: 'imagewire:1@1', width: 128, height: 128, steps: 2 }).result();
      expect(images).toHaveLength(1);
      target.faults.dropAll();
      await client.imageInference({ positivePrompt: 'a token fox again', model: 'imagewire:1@1', width: 128, height: 128, steps: 2 }).result();
      expect(fetched).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('gives tasks run with a token to the key that minted it, and to no other key', async () => {
    server = await startTestServer({ apiKeys: ['k1', 'k2'] });
    const { token } = await mint(server, 'k1');
    const task = inferenceTask();
    expect((await httpTasks(server, token, [task])).status).toBe(200);
    const asKey = await httpTasks(server, 'k1', [{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    expect(asKey.status).toBe(200);
    expect((asKey.json.data as { status?: string }[]).some((item) => item.status === 'success')).toBe(true);
    const asOther = await httpTasks(server, 'k2', [{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    expect((asOther.json.errors as { code: string }[])[0]?.code).toBe('taskNotFound');
    // And a session made with the token is resumed with the key.
    const raw = await RawClient.connect(server.url);
    const session = (await raw.authenticate(token)).connectionSessionUUID as string;
    await raw.close();
    const again = await RawClient.connect(server.url);
    const resumed = await again.authenticate('k1', { connectionSessionUUID: session });
    expect(resumed.resumed).toBe(true);
    await again.close();
  });

  it('refuses an expired token with expiredToken on both faces', async () => {
    let now = Date.now();
    server = await startTestServer({ apiKeys: ['k1'], tokens: { now: () => now } });
    const { token } = await mint(server, 'k1', { ttlSeconds: 5 });
    now += 6_000;
    const raw = await RawClient.connect(server.url);
    raw.send([{ taskType: 'authentication', apiKey: token }]);
    const frame = await raw.waitFor(() => true);
    expect(frame.kind === 'json' && frame.errors[0]).toMatchObject({ code: 'expiredToken', parameter: 'apiKey', taskType: 'authentication' });
    await raw.close();
    const http = await httpTasks(server, token, [inferenceTask()]);
    expect(http.status).toBe(401);
    expect((http.json.errors as { code: string }[])[0]?.code).toBe('expiredToken');
  });

  it('makes the client give up on a static expired token, and retry a provider for a fresh one', async () => {
    let now = Date.now();
    server = await startTestServer({ apiKeys: ['k1'], tokens: { now: () => now } });
    const target = server;
    const stale = (await mint(target, 'k1', { ttlSeconds: 5 })).token;
    now += 6_000;
    const fixed = createClient({ url: target.url, apiKey: stale, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    await expect(fixed.connect()).rejects.toMatchObject({ name: 'AuthenticationError', code: 'expiredToken' });
    expect(fixed.state).toBe('closed');
    await fixed.close();
    const handedOut: string[] = [stale];
    const provided = createClient({
      url: target.url,
      apiKey: async () => handedOut.shift() ?? (await mint(target, 'k1', { ttlSeconds: 60 })).token,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    });
    try {
      await provided.connect();
      expect(provided.state).toBe('open');
    } finally {
      await provided.close();
    }
  });

  it('refuses tampered, truncated and foreign tokens as invalidApiKey', async () => {
    server = await startTestServer({ apiKeys: ['k1'] });
    const { token } = await mint(server, 'k1');
    const sealed = Buffer.from(token.slice(4), 'base64url');
    const flip = (at: number): string => {
      const copy = Buffer.from(sealed);
      copy[at] = (copy[at] ?? 0) ^ 0x01;
      return `iwt_${copy.toString('base64url')}`;
    };
    const foreign = new TokenIssuer().mint('0'.repeat(64), 60).token;
    const bad = [
      flip(0), // the nonce
      flip(20), // the sealed payload (its expiry among it)
      flip(sealed.length - 1), // the tag
      `iwt_${sealed.subarray(0, sealed.length - 1).toString('base64url')}`,
      `iwt_${sealed.subarray(0, 28).toString('base64url')}`,
      'iwt_',
      'iwt_not*base64',
      foreign,
      `${token}.x`,
    ];
    for (const candidate of bad) {
      const http = await httpTasks(server, candidate, [inferenceTask()]);
      expect(http.status, candidate).toBe(401);
      expect((http.json.errors as { code: string }[])[0]?.code, candidate).toBe('invalidApiKey');
    }
  });

  it('reveals nothing of the key: neither the key nor its digest is in the token', async () => {
    server = await startTestServer({ apiKeys: ['k1'] });
    const { token } = await mint(server, 'k1');
    const { token: second } = await mint(server, 'k1');
    const digest = createHash('sha256').update('k1').digest();
    const bytes = Buffer.from(token.slice(4), 'base64url');
    expect(bytes.includes(digest)).toBe(false);
    expect(bytes.includes(Buffer.from(digest.toString('hex')))).toBe(false);
    expect(bytes.includes(Buffer.from('k1'))).toBe(false);
    // Two tokens of the same key and lifetime differ (a fresh nonce each).
    expect(second).not.toBe(token);
  });

  it('refuses a token made for another server unless the secret is shared', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    server = await startTestServer({ apiKeys: ['k1'], tokens: { secret } });
    const other = await startTestServer({ apiKeys: ['k1'], tokens: { secret } });
    const third = await startTestServer({ apiKeys: ['k1'] });
    try {
      const { token } = await mint(other, 'k1');
      expect((await httpTasks(server, token, [inferenceTask()])).status).toBe(200);
      expect((await httpTasks(third, token, [inferenceTask()])).status).toBe(401);
    } finally {
      await other.close();
      await third.close();
    }
  });

  it('does not let a token mint tokens, nor a bad key', async () => {
    server = await startTestServer({ apiKeys: ['k1'] });
    const { token } = await mint(server, 'k1');
    const withToken = await post(`${server.httpUrl}/v1/tokens`, undefined, token);
    expect(withToken.status).toBe(403);
    expect(withToken.json).toEqual({ errors: [expect.objectContaining({ code: 'tokenNotAllowed' })] });
    const bad = await post(`${server.httpUrl}/v1/tokens`, undefined, 'wrong');
    expect(bad.status).toBe(401);
    expect((bad.json.errors as { code: string }[])[0]?.code).toBe('invalidApiKey');
    const none = await post(`${server.httpUrl}/v1/tokens`, undefined, undefined);
    expect(none.status).toBe(401);
    expect((none.json.errors as { code: string }[])[0]?.code).toBe('missingApiKey');
  });

  it('answers bad bodies and methods with protocol-shaped errors', async () => {
    server = await startTestServer({ apiKeys: ['k1'], tokens: { maxTtlSeconds: 3600 } });
    for (const body of ['{', '[]', '"x"', '{"ttlSeconds":0}', '{"ttlSeconds":3601}', '{"ttlSeconds":1.5}', '{"ttlSeconds":"60"}', '{"scope":"all"}', `{"ttlSeconds":${'1'.repeat(2000)}}`]) {
      const answer = await post(`${server.httpUrl}/v1/tokens`, body, 'k1');
      expect(answer.status, body).toBe(400);
      expect(answer.json, body).toEqual({ errors: [expect.objectContaining({ code: 'invalidTokenRequest', message: expect.any(String) })] });
    }
    const get = await fetch(`${server.httpUrl}/v1/tokens`, { headers: { authorization: 'Bearer k1' } });
    expect(get.status).toBe(400);
    expect(get.headers.get('allow')).toBe('POST');
    expect(((await get.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('invalidTokenRequest');
    expect((await mint(server, 'k1', { ttlSeconds: 3600 })).ttlSeconds).toBe(3600);
  });

  it('never logs keys or tokens', async () => {
    server = await startTestServer({ apiKeys: ['k1-secret-key'] });
    const { token } = await mint(server, 'k1-secret-key');
    const raw = await RawClient.connect(server.url);
    await raw.authenticate(token);
    await raw.close();
    raw.ws.terminate();
    await httpTasks(server, `${token}x`, [inferenceTask()]);
    const text = server.logs.text();
    expect(text).not.toContain('k1-secret-key');
    expect(text).not.toContain(token.slice(4, 24));
  });
});

describe('TokenIssuer', () => {
  it('accepts one spelling of a token: every other last character is refused', () => {
    const issuer = new TokenIssuer();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < 5; i++) {
      const { token } = issuer.mint('b'.repeat(64), 60);
      // The precondition of the finding: the last character carries unused bits, so base64url
      // decoding alone would open the same bytes from several spellings.
      expect(Buffer.from(token.slice(4), 'base64url').length % 3).not.toBe(0);
      const accepted = [...alphabet].filter((char) => issuer.verify(`${token.slice(0, -1)}${char}`).ok);
      expect(accepted).toEqual([token.at(-1)]);
    }
  });

  it('refuses API keys that start with the token prefix (they could never authenticate)', async () => {
    await expect(startTestServer({ apiKeys: ['good', 'iwt_key'] })).rejects.toThrow(/must not start with iwt_/);
  });

  it('refuses short secrets; a token it mints verifies', () => {
    expect(() => new TokenIssuer({ secret: 'short' })).toThrow(RangeError);
    const issuer = new TokenIssuer();
    const owner = 'a'.repeat(64);
    const minted = issuer.mint(owner, 60);
    expect(issuer.verify(minted.token)).toEqual({ ok: true, owner, grant: { id: minted.id, scope: {}, expiresAtMs: minted.expiresAtMs } });
  });
});
