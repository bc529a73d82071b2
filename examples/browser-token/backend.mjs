// The backend of a browser page: it holds the imagewire API key, serves the page and its bundled
// script, and hands the page short-lived session tokens (POST /api/token), so the key never
// reaches the browser. Run: node backend.mjs
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const port = Number(process.env.PORT ?? 3000);
const apiKey = process.env.IMAGEWIRE_API_KEY ?? 'backend-only-key';
let imagewireHttp = process.env.IMAGEWIRE_HTTP_URL; // e.g. https://imagewire.example.com

// The page's script, bundled for browsers: esbuild picks the browser build of 'imagewire' (no
// Node code). A real app bundles at build time; here it happens at start to keep one command.
const bundled = await build({ entryPoints: [fileURLToPath(new URL('page.js', import.meta.url))], bundle: true, format: 'esm', platform: 'browser', minify: true, write: false });
const files = {
  '/': { type: 'text/html; charset=utf-8', body: await readFile(new URL('index.html', import.meta.url)) },
  '/page.js': { type: 'text/javascript; charset=utf-8', body: bundled.outputFiles[0].contents },
};

/** Mints a token for the page: five minutes, one 512×512 image at a time, 30 tasks a minute. */
async function mintToken() {
  const response = await fetch(`${imagewireHttp}/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttlSeconds: 300, scope: { maxNumberResults: 1, maxWidth: 512, maxHeight: 512, tasksPerMinute: 30 } }),
  });
  if (!response.ok) throw new Error(`imagewire refused to mint a token: ${response.status} ${await response.text()}`);
  const { data: [minted] } = await response.json();
  return { token: minted.token, expiresAt: minted.expiresAt };
}

function send(response, status, type, body) {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

async function handle(request, response) {
  const file = request.method === 'GET' ? files[request.url ?? ''] : undefined;
  if (file !== undefined) return send(response, 200, file.type, file.body);
  if (request.method === 'GET' && request.url === '/api/config') {
    return send(response, 200, 'application/json', JSON.stringify({ url: `${imagewireHttp.replace(/^http/, 'ws')}/v1` }));
  }
  if (request.method === 'POST' && request.url === '/api/token') {
    // A real app checks its own user session (a cookie) here before minting anything.
    try {
      return send(response, 200, 'application/json', JSON.stringify(await mintToken()));
    } catch (error) {
      console.error(error);
      return send(response, 502, 'application/json', JSON.stringify({ error: 'no token' }));
    }
  }
  send(response, 404, 'text/plain', 'not found\n');
}

const app = createHttpServer((request, response) => void handle(request, response));
app.listen(port, '127.0.0.1');
await new Promise((resolve) => app.once('listening', resolve));
const origin = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (app.address()).port}`;

let localServer;
if (imagewireHttp === undefined) {
  // No service configured: run imagewire's local server in this process. The page is served from
  // another origin than imagewire's, so that origin must be allowed.
  const { createServer } = await import('imagewire/server');
  localServer = await createServer({ port: 0, apiKeys: [apiKey], allowedOrigins: [origin], stepDelayMs: 10 });
  imagewireHttp = localServer.httpUrl;
}
console.log(`listening on ${origin}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.close();
    app.closeAllConnections();
    void localServer?.close();
  });
}
