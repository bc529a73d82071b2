// `imagewire serve --upstream URL` as an operator runs it: the key only from IMAGEWIRE_UPSTREAM_KEY
// (a usage error without it), tasks served from the upstream, and the key in none of its output.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/index.js';
import { startRunwareEmulator, type RunwareEmulator } from '../emulator/runware-emulator.js';
import { spawnImagewire, startChildServer, type ChildServer } from '../helpers/child-server.js';
import { startCluster } from '../helpers/cluster.js';

const KEY = 'cli-upstream-key-5d1e8b';
let emu: RunwareEmulator | undefined;
let gateway: ChildServer | undefined;
afterEach(async () => {
  await gateway?.close();
  await emu?.close();
  gateway = undefined;
  emu = undefined;
});

describe('imagewire serve --upstream', () => {
  it('serves tasks from the upstream with the key from the environment, and never prints the key', async () => {
    emu = await startRunwareEmulator({ apiKeys: [KEY] });
    gateway = await startChildServer(['--no-page', '--api-key', 'browser-facing', '--upstream', emu.url], { env: { IMAGEWIRE_UPSTREAM_KEY: KEY } });
    const client = createClient({ apiKey: 'browser-facing', url: gateway.url, networkEvents: false });
    try {
      const [image] = await client.imageInference({ positivePrompt: 'a kite', model: 'runware:101@1', width: 128, height: 128, outputType: 'URL' }).result();
      expect(image?.imageURL?.startsWith(emu.httpUrl)).toBe(true);
    } finally {
      await client.close();
    }
    expect(`${gateway.stdout()}${gateway.stderr()}`).not.toContain(KEY);
  });

  it('is a usage error without IMAGEWIRE_UPSTREAM_KEY, and with a URL that is not ws(s)', async () => {
    for (const [args, env, says] of [
      [['--upstream', 'wss://upstream.example/v1'], {}, 'IMAGEWIRE_UPSTREAM_KEY'],
      [['--upstream', 'https://upstream.example/v1'], { IMAGEWIRE_UPSTREAM_KEY: KEY }, 'ws:// or wss://'],
      [['--upstream', 'wss://upstream.example/v1', '--step-delay', '5'], { IMAGEWIRE_UPSTREAM_KEY: KEY }, '--step-delay'],
    ] as const) {
      const child = spawnImagewire(['serve', '--port', '0', '--no-page', ...args], { env });
      await child.exited;
      expect(child.exit()?.code).toBe(2);
      expect(child.stderr()).toContain(says);
      expect(child.stderr()).not.toContain(KEY);
    }
  });
});

describe('imagewire worker --upstream', () => {
  it('runs the tasks a cluster node accepted on the upstream', async () => {
    emu = await startRunwareEmulator({ apiKeys: [KEY] });
    const cluster = await startCluster({ nodes: 1, workers: 1, upstream: emu.url, env: { IMAGEWIRE_UPSTREAM_KEY: KEY } });
    const client = createClient({ apiKey: 'any', url: cluster.url, networkEvents: false });
    try {
      const images = await client.imageInference({ positivePrompt: 'a kite', model: 'runware:101@1', width: 128, height: 128, numberResults: 2, outputType: 'URL' }).result();
      expect(images.map((image) => image.imageURL?.startsWith(emu?.httpUrl ?? '?'))).toEqual([true, true]);
      expect([...emu.stats().inferencesAccepted.values()]).toEqual([1]);
    } finally {
      await client.close();
      await cluster.close();
    }
  });
});
