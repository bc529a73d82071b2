// The browser path, on mock-socket: the browser entry uses globalThis.WebSocket, keeps the session
// UUID in sessionStorage so a "reload" resumes, and reacts to online and visibility at once.
import { Server, WebSocket as MockWebSocket, type Client } from 'mock-socket';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/browser.js';
import { nextEvent } from './helpers.js';

const URL = 'ws://browser.test/v1';
const SESSION_A = '2f1c5c1e-7a5e-4b52-9a54-6c3b8a1d9e01';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

interface Received {
  taskType: string;
  taskUUID?: string;
  connectionSessionUUID?: string;
  extensions?: string[];
}

/** A protocol-speaking mock server: answers auth and pings, and one final per imageInference. */
function mockServer(): { server: Server; received: Received[]; sockets: Client[] } {
  const server = new Server(URL);
  const received: Received[] = [];
  const sockets: Client[] = [];
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('message', (data) => {
      for (const task of JSON.parse(String(data)) as Received[]) {
        received.push(task);
        if (task.taskType === 'authentication') {
          const resumed = task.connectionSessionUUID === SESSION_A;
          socket.send(JSON.stringify({ data: [{ taskType: 'authentication', connectionSessionUUID: SESSION_A, resumed, extensions: ['ack', 'binaryResults', 'cancel'], enabledExtensions: [] }] }));
        } else if (task.taskType === 'enableExtensions') {
          socket.send(JSON.stringify({ data: [{ taskType: 'enableExtensions', enabledExtensions: task.extensions ?? [] }] }));
        } else if (task.taskType === 'ping') {
          socket.send(JSON.stringify({ data: [{ taskType: 'ping', pong: true }] }));
        } else if (task.taskType === 'imageInference') {
          socket.send(JSON.stringify({ data: [{ taskType: 'imageInference', taskUUID: task.taskUUID, imageUUID: '9c0f4b1e-0d7b-4e0a-8a49-1c1f7a3b2d10', imageBase64Data: PNG, index: 0 }] }));
        }
      }
    });
  });
  return { server, received, sockets };
}

class MemoryStorage {
  readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

const scope = globalThis as { WebSocket?: unknown };
let original: unknown;
let mock: ReturnType<typeof mockServer>;

beforeEach(() => {
  original = scope.WebSocket;
  scope.WebSocket = MockWebSocket;
  mock = mockServer();
});

afterEach(async () => {
  scope.WebSocket = original;
  await new Promise<void>((resolve) => mock.server.stop(resolve));
});

describe('browser entry', () => {
  it('runs a task over the global WebSocket', async () => {
    const client = createClient({ apiKey: 'k', url: URL, networkEvents: false });
    const [image] = await client.imageInference({ positivePrompt: 'a red fox', model: 'runware:101@1', width: 128, height: 128 }).result();
    expect(image?.format).toBe('PNG');
    // The authentication carries the documented fields only; the offered extensions go on after it.
    expect(Object.keys(mock.received.find((task) => task.taskType === 'authentication') ?? {}).sort()).toEqual(['apiKey', 'taskType']);
    expect(mock.received.map((task) => task.taskType).slice(0, 3)).toEqual(['authentication', 'enableExtensions', 'imageInference']);
    expect(mock.received.find((task) => task.taskType === 'enableExtensions')?.extensions).toEqual(['ack', 'binaryResults']);
    await client.close();
  });

  it('keeps the session in sessionStorage so a reloaded page resumes it', async () => {
    const storage = new MemoryStorage();
    const first = createClient({ apiKey: 'k', url: URL, sessionStorage: storage, networkEvents: false });
    await first.connect();
    expect(storage.map.get(`imagewire:session:${URL}`)).toBe(SESSION_A);
    // The page reloads: the old client is gone without a goodbye, a new one starts.
    const second = createClient({ apiKey: 'k', url: URL, sessionStorage: storage, networkEvents: false });
    const connected = nextEvent(second, 'connected');
    await second.connect();
    expect((await connected).resumed).toBe(true);
    expect(mock.received.filter((task) => task.taskType === 'authentication').at(-1)?.connectionSessionUUID).toBe(SESSION_A);
    await first.close();
    await second.close();
  });

  it('checks the connection at once when the page becomes visible or the network changes', async () => {
    const window = new EventTarget();
    const document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    const client = createClient({ apiKey: 'k', url: URL, networkEvents: { window, document } });
    await client.connect();
    const pingsBefore = mock.received.filter((task) => task.taskType === 'ping').length;
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event('offline'));
    await client.ping();
    // One health-check ping (a second hint while it is out adds none), plus ours.
    expect(mock.received.filter((task) => task.taskType === 'ping').length - pingsBefore).toBe(2);
    await client.close();
  });

  it('checks the connection when a page comes back from the back/forward cache', async () => {
    const window = new EventTarget();
    const client = createClient({ apiKey: 'k', url: URL, networkEvents: { window } });
    await client.connect();
    const pings = () => mock.received.filter((task) => task.taskType === 'ping').length;
    const before = pings();
    // A first load (persisted false) says nothing about the socket.
    window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: false }));
    await client.ping();
    expect(pings() - before).toBe(1);
    window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    await client.ping();
    expect(pings() - before).toBe(3);
    await client.close();
  });

  it('reconnects at once on `online` instead of waiting out the backoff', async () => {
    const window = new EventTarget();
    // A drop right after connecting is not a "live" drop: it waits a backed-off ~59 s.
    const client = createClient({ apiKey: 'k', url: URL, networkEvents: { window }, reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 }, random: () => 0.99 });
    await client.connect();
    const waiting = new Promise<void>((resolve) => {
      const off = client.on('state', (change) => {
        if (change.to === 'reconnecting') {
          off();
          resolve();
        }
      });
    });
    mock.sockets.at(-1)?.close({ code: 1006, reason: 'gone', wasClean: false });
    await waiting;
    const again = nextEvent(client, 'connected');
    window.dispatchEvent(new Event('online'));
    await again;
    expect(client.state).toBe('open');
    await client.close();
  });

  it('removes its window and document listeners on close', async () => {
    const added: string[] = [];
    const removed: string[] = [];
    const spy = (target: EventTarget) => ({
      addEventListener: (type: string, listener: (event: Event) => void) => {
        added.push(type);
        target.addEventListener(type, listener);
      },
      removeEventListener: (type: string, listener: (event: Event) => void) => {
        removed.push(type);
        target.removeEventListener(type, listener);
      },
    });
    const client = createClient({ apiKey: 'k', url: URL, networkEvents: { window: spy(new EventTarget()), document: spy(new EventTarget()) } });
    await client.connect();
    await client.close();
    expect(added.sort()).toEqual(['offline', 'online', 'pageshow', 'visibilitychange']);
    expect(removed.sort()).toEqual(added.sort());
  });
});
