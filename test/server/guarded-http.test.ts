// The server's outbound HTTP client over loopback, with a resolver hook playing DNS: the address a
// name resolves to is the one checked and the one connected to, once per connection, so a name that
// answers a harmless address first and an internal one next (DNS rebinding) never reaches the second.
import type { LookupAddress } from 'node:dns';
import { afterEach, describe, expect, it } from 'vitest';
import { guardedRequest, OutboundFailure, type GuardedRequest, type Resolver } from '../../src/server/outbound/guarded-http.js';
import { OutboundPolicy, type OutboundPolicyOptions, type OutboundTarget } from '../../src/server/outbound/policy.js';
import { startHttpFixture, type HttpFixture } from '../helpers/http-fixture.js';

const fixtures: HttpFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((fixture) => fixture.close()));
});

async function fixture(host?: string, port?: number): Promise<HttpFixture> {
  const started = await startHttpFixture(host, port);
  fixtures.push(started);
  return started;
}

/** A resolver that answers each call with the next list, the last one from then on, and counts calls. */
function scriptedResolver(...answers: string[][]): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<readonly LookupAddress[]> => {
    calls.push(hostname);
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)] ?? [];
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

function get(policy: OutboundPolicyOptions, resolve: Resolver, overrides: Partial<GuardedRequest> = {}): GuardedRequest {
  return { kind: 'input', method: 'GET', policy: new OutboundPolicy(policy), maxRedirects: 3, maxBodyBytes: 1_000, timeoutMs: 5_000, signal: new AbortController().signal, resolve, ...overrides };
}

describe('names are checked by the addresses they resolve to', () => {
  it('refuses a name resolving to loopback before connecting, and connects to exactly that address when allowed', async () => {
    const target = await fixture();
    target.route('/x', 'hello');
    const port = new URL(target.url).port;
    const resolver = scriptedResolver(['127.0.0.1']);
    const refused = guardedRequest(`http://images.example:${port}/x`, get({ allowPrivateNetwork: false }, resolver));
    await expect(refused).rejects.toThrow(OutboundFailure);
    await expect(refused).rejects.toMatchObject({ refused: true, message: 'address 127.0.0.1 is loopback, not global unicast' });
    expect(target.requests).toEqual([]);

    const seen: OutboundTarget[] = [];
    const allowed = await guardedRequest(`http://images.example:${port}/x`, get({ allowPrivateNetwork: true, allowOutbound: (t) => seen.push(t) > 0 }, resolver));
    expect(Buffer.from(allowed.body).toString()).toBe('hello');
    expect(target.requests).toHaveLength(1);
    expect(seen.map(({ kind, address, range, url }) => ({ kind, address, range, url: url.href }))).toEqual([{ kind: 'input', address: '127.0.0.1', range: 'loopback', url: `http://images.example:${port}/x` }]);
  });

  it('never connects to a rebound address: each connection resolves once and uses what it checked', async () => {
    // 127.0.0.2 plays the harmless host, 127.0.0.1 the internal one, on the same port.
    const harmless = await fixture('127.0.0.2');
    const port = Number(new URL(harmless.url).port);
    const internal = await fixture('127.0.0.1', port);
    harmless.route('/a', '', { status: 302, headers: { location: '/b' } });
    harmless.route('/b', 'fine');
    const resolver = scriptedResolver(['127.0.0.2'], ['127.0.0.1']);
    const policy = { allowPrivateNetwork: true, allowOutbound: ({ address }: OutboundTarget) => address === '127.0.0.2' };
    const request = guardedRequest(`http://rebind.example:${port}/a`, get(policy, resolver));
    await expect(request).rejects.toMatchObject({ refused: true, message: 'allowOutbound refused address 127.0.0.1' });
    expect(resolver.calls).toEqual(['rebind.example', 'rebind.example']);
    expect(harmless.requests.map((r) => r.path)).toEqual(['/a']);
    expect(internal.requests).toEqual([]);
  });

  it('connects only to the allowed addresses of a name that has several', async () => {
    const target = await fixture();
    target.route('/x', 'hello');
    const port = new URL(target.url).port;
    // ::1 is refused by allowOutbound; 127.0.0.1 is tried instead.
    const resolver = scriptedResolver(['::1', '127.0.0.1']);
    const response = await guardedRequest(`http://two.example:${port}/x`, get({ allowPrivateNetwork: true, allowOutbound: ({ address }) => address === '127.0.0.1' }, resolver));
    expect(response.status).toBe(200);
  });

  it('refuses IP literals without any lookup', async () => {
    const target = await fixture();
    const resolver = scriptedResolver(['127.0.0.1']);
    await expect(guardedRequest(`${target.url}/x`, get({ allowPrivateNetwork: false }, resolver))).rejects.toMatchObject({ refused: true });
    await expect(guardedRequest(`http://[::1]:${new URL(target.url).port}/x`, get({ allowPrivateNetwork: false }, resolver))).rejects.toMatchObject({ refused: true, message: 'address ::1 is loopback, not global unicast' });
    expect(resolver.calls).toEqual([]);
    expect(target.requests).toEqual([]);
  });

  it('refuses other schemes and URLs with credentials, also as redirect targets', async () => {
    const target = await fixture();
    target.route('/file', '', { status: 302, headers: { location: 'file:///etc/passwd' } });
    const resolver = scriptedResolver(['127.0.0.1']);
    const open = { allowPrivateNetwork: true };
    await expect(guardedRequest(`${target.url}/file`, get(open, resolver))).rejects.toMatchObject({ refused: true, message: 'scheme file: is not fetched' });
    const withCredentials = `http://user:secret@127.0.0.1:${new URL(target.url).port}/x`;
    await expect(guardedRequest(withCredentials, get(open, resolver))).rejects.toMatchObject({ refused: true, message: 'the URL carries credentials' });
    expect(target.requests.map((r) => r.path)).toEqual(['/file']);
  });

  it('shows the policy functions a copy of the URL: changing it does not change the request', async () => {
    const target = await fixture();
    target.route('/x', 'hello');
    const rewrite = ({ url }: { url: URL }): boolean => {
      url.pathname = '/elsewhere';
      return true;
    };
    const policy = { allowPrivateNetwork: true, allowOutbound: rewrite, allowInputUrl: (url: URL) => rewrite({ url }) };
    await guardedRequest(`http://images.example:${new URL(target.url).port}/x`, get(policy, scriptedResolver(['127.0.0.1'])));
    expect(target.requests.map((r) => r.path)).toEqual(['/x']);
  });

  it('treats an allowOutbound that throws as a refusal', async () => {
    const target = await fixture();
    const throwing = (): boolean => {
      throw new Error('bug in the operator function');
    };
    await expect(guardedRequest(`${target.url}/x`, get({ allowPrivateNetwork: true, allowOutbound: throwing }, scriptedResolver()))).rejects.toMatchObject({ refused: true });
    expect(target.requests).toEqual([]);
  });
});

describe('the caller stays in control', () => {
  it("throws the caller's abort reason as is, not an OutboundFailure", async () => {
    const target = await fixture();
    const controller = new AbortController();
    const reason = new Error('task cancelled');
    controller.abort(reason);
    await expect(guardedRequest(`${target.url}/x`, get({ allowPrivateNetwork: true }, scriptedResolver(), { signal: controller.signal }))).rejects.toBe(reason);
    expect(target.requests).toEqual([]);
  });
});
