// The live page's script (bundled to dist/web/page.js, importing the browser build of the client):
// as-you-type generation with previews painted into a canvas and session tokens from the server,
// which hands them out for the page secret that came in the page's URL fragment.
import { AuthenticationError, createClient, createLiveSession, type LiveEvent, type LiveRequest } from '../browser.js';

const MODEL = 'runware:101@1';
/** Where the page secret is kept for this tab: it survives reloads, not the tab. */
const SECRET_KEY = 'imagewire:page-secret';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

const body = document.body;
const prompt = element<HTMLTextAreaElement>('prompt');
const size = element<HTMLSelectElement>('size');
const seed = element<HTMLInputElement>('seed');
const steps = element<HTMLInputElement>('steps');
const stepsValue = element<HTMLOutputElement>('steps-value');
const status = element<HTMLSpanElement>('status');
const progress = element<HTMLSpanElement>('progress');
const latency = element<HTMLSpanElement>('latency');
const canvas = element<HTMLCanvasElement>('picture');
const context = canvas.getContext('2d');

/**
 * The page secret: taken from the URL's fragment (`#secret=...`, which never reaches a server log or
 * a Referer header), kept in sessionStorage, and removed from the address bar so that it is not
 * bookmarked, shared or shown.
 */
function pageSecret(): string | undefined {
  const fromUrl = new URLSearchParams(location.hash.slice(1)).get('secret');
  if (fromUrl !== null && fromUrl !== '') {
    window.sessionStorage.setItem(SECRET_KEY, fromUrl);
    history.replaceState(history.state, '', `${location.pathname}${location.search}`);
    return fromUrl;
  }
  return window.sessionStorage.getItem(SECRET_KEY) ?? undefined;
}

const secret = pageSecret();
const LOCKED_TEXT = 'open the page with the URL imagewire serve printed (it carries the page secret)';

/** Fetches a fresh session token from the page's token source (called at every authentication). */
async function fetchToken(): Promise<string> {
  const url = body.dataset.tokenUrl ?? '';
  if (url === '') throw new Error('this page has no token source; serve it behind a backend that mints tokens');
  // An AuthenticationError closes the client: retrying without the secret cannot succeed.
  if (secret === undefined) throw new AuthenticationError({ code: 'invalidPageSecret', message: LOCKED_TEXT });
  const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${secret}` }, credentials: 'same-origin', cache: 'no-store' });
  const answer = (await response.json()) as { data?: { token?: unknown }[]; errors?: { code?: unknown; message?: unknown }[] };
  const token = answer.data?.[0]?.token;
  if (response.ok && typeof token === 'string') return token;
  const refused = answer.errors?.[0];
  if (response.status === 401 && refused !== undefined) {
    // A secret of an earlier server start: forget it, so the next visit asks for the new URL.
    window.sessionStorage.removeItem(SECRET_KEY);
    throw new AuthenticationError({ code: String(refused.code), message: String(refused.message) });
  }
  throw new Error(`the token source answered HTTP ${response.status}`);
}

function setStatus(name: string, text: string): void {
  body.dataset.status = name;
  status.textContent = text;
}

const client = createClient({
  apiKey: fetchToken,
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1`,
  lazy: false,
  sessionStorage: window.sessionStorage,
  reconnect: { initialDelayMs: 100, maxDelayMs: 3_000 },
});

let everConnected = false;
client.on('state', ({ to }) => {
  body.dataset.connection = to;
  if (to === 'reconnecting') setStatus('reconnecting', 'reconnecting…');
  else if (to === 'connecting' || to === 'authenticating') setStatus(everConnected ? 'reconnecting' : 'connecting', everConnected ? 'reconnecting…' : 'connecting…');
  else if (to === 'closed' && body.dataset.lastError === 'invalidPageSecret') setStatus('locked', LOCKED_TEXT);
  else if (to === 'closed') setStatus('closed', 'disconnected');
});
client.on('connected', (info) => {
  if (info.resumed) body.dataset.resumes = String(Number(body.dataset.resumes ?? '0') + 1);
  setStatus(info.resumed ? 'resumed' : 'connected', info.resumed ? 'connected · session resumed' : 'connected');
  everConnected = true;
});
client.on('error', (error) => {
  body.dataset.lastError = error.code;
});

const live = createLiveSession(client, { throttleMs: 150, previews: { maxSide: 512 } });
let typedAt = 0;
let firstPreviewSeen = false;

function request(): LiveRequest | undefined {
  const text = prompt.value.trim();
  if (text.length < 2) return undefined;
  const side = Number(size.value);
  const seedValue = Number.parseInt(seed.value, 10);
  return {
    positivePrompt: text,
    model: MODEL,
    width: side,
    height: side,
    steps: Number(steps.value),
    ...(Number.isInteger(seedValue) && seedValue >= 1 ? { seed: seedValue } : {}),
    outputFormat: 'PNG',
  };
}

function changed(): void {
  stepsValue.textContent = steps.value;
  const next = request();
  if (next === undefined) return;
  typedAt = performance.now();
  firstPreviewSeen = false;
  body.dataset.requested = String(live.update(next));
}

for (const input of [prompt, size, seed, steps]) input.addEventListener('input', changed);
element<HTMLFormElement>('controls').addEventListener('submit', (event) => event.preventDefault());
// Closed when the page is hidden: an open socket keeps a page out of the back/forward cache. A page
// restored from that cache has a closed client, so it starts afresh.
window.addEventListener('pagehide', () => {
  live.close();
  client.close().catch(reportError);
});
window.addEventListener('pageshow', (event) => {
  if (event.persisted) location.reload();
});

async function paint(event: Extract<LiveEvent, { type: 'preview' | 'final' }>): Promise<void> {
  const image = event.image;
  const bitmap = await createImageBitmap(new Blob([image.bytes.slice()], { type: image.mediaType }));
  try {
    // A final sets the canvas to its size; previews (maybe smaller) are scaled to the request's.
    const width = event.type === 'final' ? bitmap.width : Number(size.value);
    const height = event.type === 'final' ? bitmap.height : Number(size.value);
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    context?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  } finally {
    bitmap.close();
  }
}

async function run(): Promise<void> {
  for await (const event of live) {
    switch (event.type) {
      case 'start':
        body.dataset.running = String(event.seq);
        progress.textContent = 'starting…';
        break;
      case 'preview':
        await paint(event);
        if (!firstPreviewSeen) {
          firstPreviewSeen = true;
          const ms = Math.round(performance.now() - typedAt);
          body.dataset.firstPreviewMs = String(ms);
          latency.textContent = `first preview ${ms} ms after typing`;
        }
        Object.assign(body.dataset, { seq: String(event.seq), phase: 'preview', step: String(event.step), steps: String(event.steps) });
        progress.textContent = `step ${event.step} of ${event.steps}`;
        break;
      case 'final':
        await paint(event);
        Object.assign(body.dataset, { seq: String(event.seq), phase: 'final', step: body.dataset.steps ?? '0', finalTask: event.taskUUID });
        progress.textContent = `done · seed ${event.image.seed ?? '?'}`;
        break;
      case 'done':
        body.dataset.done = String(event.seq);
        break;
      case 'error':
        Object.assign(body.dataset, { seq: String(event.seq), phase: 'error', lastError: 'code' in event.error ? String(event.error.code) : event.error.name });
        progress.textContent = `failed: ${event.error.message}`;
        break;
    }
  }
}

setStatus('connecting', 'connecting…');
body.dataset.ready = 'true';
run().catch((error: unknown) => {
  setStatus('error', `stopped: ${error instanceof Error ? error.message : 'unknown error'}`);
  reportError(error);
});
