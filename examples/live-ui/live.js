// As-you-type generation: every edit of the prompt becomes the latest request of a live session,
// which runs only the newest one (throttled) and cancels the stale task on the server. Previews
// paint as they stream; the last picture stays up until the next one arrives.
import { createClient, createLiveSession } from 'imagewire';

const prompt = /** @type {HTMLInputElement} */ (document.querySelector('#prompt'));
const image = document.querySelector('img');
const status = document.querySelector('#status');

async function fetchToken() {
  const response = await fetch('/api/token', { method: 'POST', credentials: 'same-origin' });
  if (!response.ok) throw new Error(`the backend gave no token (${response.status})`);
  return (await response.json()).token;
}

const { url } = await (await fetch('/api/config')).json();
const client = createClient({ url, apiKey: fetchToken, sessionStorage: window.sessionStorage });
const live = createLiveSession(client, { throttleMs: 150, previews: { maxSide: 256 } });

/** The prompt of each request, by its sequence number, to label what is on screen. */
const prompts = new Map();
prompt.addEventListener('input', () => {
  const text = prompt.value.trim();
  if (text === '') return;
  const seq = live.update({ positivePrompt: text, model: 'runware:101@1', width: 256, height: 256, steps: 12, outputFormat: 'PNG' });
  prompts.set(seq, text);
});

let shown;
function paint(result) {
  const next = result.createObjectURL();
  image.src = next;
  if (shown !== undefined) URL.revokeObjectURL(shown);
  shown = next;
}

let previews = 0;
for await (const event of live) {
  const text = prompts.get(event.seq);
  if (event.type === 'start') status.textContent = `drawing “${text}”…`;
  else if (event.type === 'preview') {
    paint(event.image);
    document.body.dataset.previews = String(++previews);
    status.textContent = `“${text}”: step ${event.step} of ${event.steps}`;
  } else if (event.type === 'final') paint(event.image);
  else if (event.type === 'done') {
    status.textContent = `“${text}”: done`;
    document.body.dataset.done = text;
  } else if (event.type === 'error') status.textContent = `“${text}”: ${event.error.message}`;
}
