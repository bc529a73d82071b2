// A live UI: the picture forms while you type. This server serves the page and its bundled script,
// and mints session tokens for it; the page drives createLiveSession. Run: node server.mjs
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const port = Number(process.env.PORT ?? 3000);
const apiKey = process.env.IMAGEWIRE_API_KEY ?? 'backend-only-key';
let imagewireHttp = process.env.IMAGEWIRE_HTTP_URL;

const bundled = await build({ entryPoints: [fileURLToPath(new URL('live.js', import.meta.url))], bundle: true, format: 'esm', platform: 'browser', minify: true, write: false });
const files = {
  '/': { type: 'text/html; charset=utf-8', body: await readFile(new URL('index.html', import.meta.url)) },
  '/live.js': { type: 'text/javascript; charset=utf-8', body: bundled.outputFiles[0].contents },
};

async function mintToken() {
  const response = await fetch(`${imagewireHttp}/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttlSeconds: 600, scope: { maxNumberResults: 1, maxWidth: 512, maxHeight: 512 } }),
  });
  if (!response.ok) throw new Error(`imagewire refused to mint a token: ${response.status}`);
  return (await response.json()).data[0].token;
}

async function handle(request, response) {
  const file = request.method === 'GET' ? files[request.url ?? ''] : undefined;
  const json = (status, body) => response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  if (file !== undefined) response.writeHead(200, { 'content-type': file.type }).end(file.body);
  else if (request.method === 'GET' && request.url === '/api/config') json(200, { url: `${imagewireHttp.replace(/^http/, 'ws')}/v1` });
  else if (request.method === 'POST' && request.url === '/api/token') {
    // A real app checks its own user session here.
    await mintToken().then((token) => json(200, { token }), (error) => (console.error(error), json(502, { error: 'no token' })));
  } else response.writeHead(404).end();
}

const app = createHttpServer((request, response) => void handle(request, response));
app.listen(port, '127.0.0.1');
await new Promise((resolve) => app.once('listening', resolve));
const origin = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (app.address()).port}`;

let localServer;
if (imagewireHttp === undefined) {
  // No service configured: imagewire's local server, slowed down a little so previews can be seen.
  const { createServer } = await import('imagewire/server');
  localServer = await createServer({ port: 0, apiKeys: [apiKey], allowedOrigins: [origin], stepDelayMs: 25 });
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
