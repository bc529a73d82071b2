// A tiny HTTP service: GET /image?prompt=...&width=...&height=... answers with a PNG made by an
// imagewire (or Runware) server over one shared WebSocket client. Run: node server.mjs
import { createServer as createHttpServer } from 'node:http';
import { ApiError, TimeoutError, ValidationError, createClient } from 'imagewire';

const port = Number(process.env.PORT ?? 3000);
let url = process.env.IMAGEWIRE_URL;
let apiKey = process.env.IMAGEWIRE_API_KEY ?? '';
let localServer;
if (url === undefined) {
  // No service configured: run imagewire's local server (the procedural engine) in this process.
  const { createServer } = await import('imagewire/server');
  localServer = await createServer({ port: 0 });
  url = localServer.url;
  apiKey = 'local-dev';
}

// One client for the whole service: one WebSocket carries every request's task, and it
// reconnects and resumes on its own.
const client = createClient({ apiKey, url });

/** The HTTP status for an error of a task: the caller's fault, a slow server, or ours. */
function statusOf(error) {
  if (error instanceof ValidationError) return 400;
  if (error instanceof ApiError) return error.item.code === 'unknownModel' || error.parameter !== undefined ? 400 : 502;
  if (error instanceof TimeoutError) return 504;
  return 502;
}

async function generate(request, response) {
  const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
  // A caller that hangs up cancels its task, on the server too.
  const hangUp = new AbortController();
  response.on('close', () => hangUp.abort());
  try {
    const [image] = await client
      .imageInference({
        positivePrompt: query.get('prompt') ?? '',
        model: process.env.IMAGEWIRE_MODEL ?? 'runware:101@1',
        width: Number(query.get('width') ?? 512),
        height: Number(query.get('height') ?? 512),
        outputFormat: 'PNG',
        signal: hangUp.signal,
        timeoutMs: 60_000,
      })
      .result();
    response.writeHead(200, { 'content-type': 'image/png', 'content-length': image.bytes.length });
    response.end(image.bytes);
  } catch (error) {
    if (hangUp.signal.aborted) return;
    const body = { error: error.code ?? 'internal', message: error.message, parameter: error.parameter };
    response.writeHead(statusOf(error), { 'content-type': 'application/json' });
    response.end(`${JSON.stringify(body)}\n`);
  }
}

const server = createHttpServer((request, response) => {
  if (request.method === 'GET' && request.url?.startsWith('/image')) void generate(request, response);
  else response.writeHead(404, { 'content-type': 'text/plain' }).end('try GET /image?prompt=a+red+fox\n');
});
server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`));

// Stop taking requests, then close the client and the local server.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void client.close().then(() => localServer?.close());
  });
}
