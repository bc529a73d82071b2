// The live page's script (bundled to dist/web/page.js, importing the browser build of the client):
// as-you-type generation with previews painted into a canvas and session tokens from the server,
// which hands them out for the page secret that came in the page's URL fragment.
import { AuthenticationError, createClient, createLiveSession, type LiveEvent, type LiveRequest } from '../browser.js';
import { limits } from '../protocol/validate/rules.js';
import { mayReplace, type Painted } from './hold.js';
import { download, pictureBlob, type FinalBytes } from './save.js';

const MODEL = 'runware:101@1';
/**
 * At most one task starts per this many ms while the prompt changes (the first at once, the last when
 * the window ends): short, so the task of the prompt as it stands when typing pauses starts at most
 * this long after the last key; long enough that keys typed faster than this share a task.
 */
const THROTTLE_MS = 100;
/**
 * Preview size: previews are soft by design until their last steps, and a quarter of the pixels of a
 * 512 px canvas encodes, travels and decodes four times faster, so the first one arrives sooner.
 */
const PREVIEW_SIDE = 256;
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
const hint = element<HTMLSpanElement>('hint');
const save = element<HTMLButtonElement>('save');
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
  // A timing measured before the connection dropped says nothing about the next one.
  if (to !== 'open') clearLatency();
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

const live = createLiveSession(client, { throttleMs: THROTTLE_MS, previews: { maxSide: PREVIEW_SIDE } });
/** When each recent request was made (update() time), to time its first picture. */
const requestedAt = new Map<number, number>();
/** The request whose first picture the latency caption shows, once it has shown one. */
let timedSeq = 0;
/** What the canvas shows, and the final's bytes when it shows a final (saved as they are). */
let shown: Painted | undefined;
let shownFinal: FinalBytes | undefined;

function clearLatency(): void {
  latency.textContent = '';
  delete body.dataset.firstPreviewMs;
}

function setHint(name: string, text: string): void {
  if (name === '') delete body.dataset.hint;
  else body.dataset.hint = name;
  hint.textContent = text;
}

/** The request for the form as it stands, or undefined (with a hint saying why) when it cannot run. */
function request(): LiveRequest | undefined {
  const text = prompt.value.trim();
  const { minLength, maxLength } = limits.positivePrompt;
  if (text.length === 0) setHint('', '');
  else if (text.length < minLength) setHint('too-short', `keep typing: a prompt needs at least ${minLength} characters`);
  else if (text.length > maxLength) setHint('too-long', `a prompt can have at most ${maxLength} characters; this one has ${text.length}`);
  else setHint('', '');
  if (text.length < minLength || text.length > maxLength) return undefined;
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
  const seq = live.update(next);
  requestedAt.set(seq, performance.now());
  for (const old of requestedAt.keys()) if (old < seq - 16) requestedAt.delete(old);
  body.dataset.requested = String(seq);
}

for (const input of [prompt, size, seed, steps]) input.addEventListener('input', changed);
element<HTMLFormElement>('controls').addEventListener('submit', (event) => event.preventDefault());
save.addEventListener('click', () => {
  const seedPart = body.dataset.seed === undefined || body.dataset.seed === '' ? 'picture' : body.dataset.seed;
  const name = `imagewire-${seedPart}-${shownFinal === undefined ? `step-${body.dataset.step ?? '0'}` : 'final'}.png`;
  pictureBlob(canvas, shownFinal)
    .then((blob) => download(blob, name))
    .catch(reportError);
});
// Closed when the page is hidden: an open socket keeps a page out of the back/forward cache. A page
// restored from that cache has a closed client, so it starts afresh.
window.addEventListener('pagehide', () => {
  live.close();
  client.close().catch(reportError);
});
window.addEventListener('pageshow', (event) => {
  if (event.persisted) location.reload();
});

async function draw(event: Extract<LiveEvent, { type: 'preview' | 'final' }>): Promise<void> {
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

/** Paints a preview or final unless the canvas holds a picture further along; true if painted. */
async function paint(event: Extract<LiveEvent, { type: 'preview' | 'final' }>): Promise<boolean> {
  const next: Painted = { seq: event.seq, progress: event.type === 'final' ? 1 : event.step / event.steps };
  if (!mayReplace(shown, next)) {
    body.dataset.held = 'true';
    return false;
  }
  await draw(event);
  shown = next;
  shownFinal = event.type === 'final' ? { bytes: event.image.bytes, mediaType: event.image.mediaType } : undefined;
  delete body.dataset.held;
  save.disabled = false;
  const step = event.type === 'final' ? (body.dataset.steps ?? '0') : event.step;
  Object.assign(body.dataset, { seq: String(event.seq), phase: event.type, step: String(step), seed: String(event.image.seed ?? '') });
  if (event.type === 'preview') body.dataset.steps = String(event.steps);
  else body.dataset.finalTask = event.taskUUID;
  if (event.seq !== timedSeq) showLatency(event.seq);
  return true;
}

/** Shows how long after its request the first picture of request `seq` appeared. */
function showLatency(seq: number): void {
  const at = requestedAt.get(seq);
  timedSeq = seq;
  if (at === undefined) return;
  const ms = Math.round(performance.now() - at);
  body.dataset.firstPreviewMs = String(ms);
  latency.textContent = `first preview ${ms} ms after typing`;
}

async function run(): Promise<void> {
  for await (const event of live) {
    switch (event.type) {
      case 'start':
        body.dataset.running = String(event.seq);
        if (shown === undefined) progress.textContent = 'starting…';
        break;
      case 'preview': {
        const painted = await paint(event);
        progress.textContent = painted ? `step ${event.step} of ${event.steps}` : `step ${event.step} of ${event.steps} · keeping the last picture until this one catches up`;
        break;
      }
      case 'final':
        await paint(event);
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
