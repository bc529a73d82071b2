// The page's script: the browser build of the imagewire client, authenticated with session tokens
// from this app's backend (never an API key). Bundled by backend.mjs with esbuild.
import { ImagewireError, createClient } from 'imagewire';

const form = document.querySelector('form');
const prompt = /** @type {HTMLInputElement} */ (document.querySelector('#prompt'));
const image = document.querySelector('img');
const status = document.querySelector('#status');

function show(text, state) {
  status.textContent = text;
  document.body.dataset.state = state;
}

/** A fresh token from the backend; the client calls this at every (re)authentication. */
async function fetchToken() {
  const response = await fetch('/api/token', { method: 'POST', credentials: 'same-origin' });
  if (!response.ok) throw new Error(`the backend gave no token (${response.status})`);
  return (await response.json()).token;
}

const { url } = await (await fetch('/api/config')).json();
const client = createClient({ url, apiKey: fetchToken, sessionStorage: window.sessionStorage });
client.on('state', ({ to }) => (document.body.dataset.connection = to));

let previous;
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  show('generating…', 'busy');
  try {
    const [result] = await client
      .imageInference({ positivePrompt: prompt.value, model: 'runware:101@1', width: 256, height: 256, steps: 8, outputFormat: 'PNG' })
      .result();
    if (previous !== undefined) URL.revokeObjectURL(previous);
    previous = result.createObjectURL();
    image.src = previous;
    show(`done: seed ${result.seed}`, 'done');
  } catch (error) {
    show(error instanceof ImagewireError ? `${error.code}: ${error.message}` : String(error), 'failed');
  }
});
show('ready', 'ready');
