// Lint rules: typescript-eslint's recommended set, no `any`, floating promises, and the layers of
// docs/architecture.md as import boundaries, folder by folder.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Packages that do I/O in Node, which only the server, the engine and Node entries may load. */
const nodeOnly = ['ws', 'sharp', 'undici', 'ipaddr.js', 'node:*', 'ioredis', 'bullmq'];
const browserForbidden = ['**/server/**', '**/engine/**', '**/cli/**', ...nodeOnly];
const browserMessage = 'The client must stay browser-safe: no server, engine, CLI, ws or Node built-ins.';
const serverForbidden = ['**/client/**', '**/cli/**', '**/web/**', '../index.js', '../../index.js', '../browser.js', '../../browser.js'];
const serverMessage = 'The server never loads the client, the CLI or the page script.';

/** One layer's rule: the import patterns its files must never use, each with why. */
function layer(files, groups, options = {}) {
  const patterns = groups.map(([group, message]) => ({ group, message }));
  for (const name of options.typeOnly ?? []) patterns.push({ group: [name], message: 'Node built-ins are allowed here as types only.', allowTypeImports: true });
  return { files, ...(options.ignores === undefined ? {} : { ignores: options.ignores }), rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

/** A folder of the server and the sibling folders it must never import. */
function serverLayer(folder, never, message) {
  return layer([`src/server/${folder}/**/*.ts`], [[serverForbidden, serverMessage], [never.map((other) => `../${other}/*`), message]]);
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  // The example apps are user code: their pages run in browsers, their servers in Node.
  { files: ['examples/**/*.js'], languageOptions: { globals: { document: 'readonly', window: 'readonly', fetch: 'readonly' } } },
  { files: ['examples/**/*.mjs'], languageOptions: { globals: { fetch: 'readonly' } } },
  // Short functions: a newcomer reads one screen at a time (tests and benchmarks may tell longer stories).
  { files: ['src/**/*.ts'], rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true, IIFEs: true }] } },
  // The layers, as docs/architecture.md draws them: each folder names what it must never import.
  layer(['src/protocol/*.ts'], [[['../*', ...nodeOnly], 'src/protocol is pure: it imports nothing of ours outside itself and no I/O.']]),
  layer(['src/protocol/*/**/*.ts'], [[['../../*', ...nodeOnly], 'src/protocol is pure: it imports nothing of ours outside itself and no I/O.']]),
  layer(
    ['src/internal/**/*.ts'],
    [[['../client/*', '../server/*', '../engine/*', '../cli/*', '../web/*', '../index.js', '../browser.js', ...nodeOnly.filter((name) => name !== 'node:*')], 'src/internal holds helpers below the client and the server: it imports neither, and no I/O.']],
    { typeOnly: ['node:*'] },
  ),
  layer(['src/engine/**/*.ts'], [[['**/client/**', '**/server/**', '**/cli/**', '**/internal/**', '**/web/**'], 'The engine knows the protocol and sharp only.']]),
  layer(['src/gateway/**/*.ts'], [[['**/server/**', '**/cli/**', '**/web/**', '**/browser.js'], 'The gateway is an Engine on the client: servers take it as any engine, so it never knows the server.']]),
  layer(['src/index.ts'], [[['**/server/**', '**/engine/**', '**/cli/**'], 'The Node entry of the client never loads the server, the engine or the CLI.']]),
  layer(['src/web/**/*.ts', 'src/browser.ts'], [[browserForbidden, browserMessage]]),
  layer(['src/client/**/*.ts'], [[browserForbidden, browserMessage]], { ignores: ['src/client/socket/websocket-node.ts'] }),
  layer(['src/client/socket/**/*.ts'], [[browserForbidden, browserMessage], [['../connection/*', '../tasks/*', '../http/*', '../live.js', '../client.js', '../options.js', '../index.js'], 'The socket layer knows nothing above it.']], {
    ignores: ['src/client/socket/websocket-node.ts'],
  }),
  layer(['src/client/connection/**/*.ts'], [[browserForbidden, browserMessage], [['../tasks/*', '../http/*', '../live.js', '../client.js', '../options.js', '../index.js'], 'The connection knows sockets, not tasks.']]),
  layer(['src/client/tasks/**/*.ts'], [[browserForbidden, browserMessage], [['../http/*', '../live.js', '../client.js', '../index.js'], 'The task layer knows the connection, not the faces above it.']]),
  layer(['src/client/http/**/*.ts'], [[browserForbidden, browserMessage], [['../connection/*', '../socket/*', '../live.js', '../client.js', '../index.js'], 'The HTTP transport stands beside the WebSocket one, not on it.']]),
  layer(['src/server/**/*.ts'], [[serverForbidden, serverMessage]]),
  serverLayer('outbound', ['core', 'images', 'ws', 'http', 'auth', 'openai', 'imagine', 'page', 'cluster', 'node'], 'Outbound requests are the bottom of the server: they know no task, image or face.'),
  serverLayer('images', ['core', 'ws', 'http', 'auth', 'openai', 'imagine', 'page', 'cluster', 'node'], 'Images (store, inputs) sit under the task core.'),
  serverLayer('auth', ['core', 'images', 'outbound', 'ws', 'http', 'openai', 'imagine', 'page', 'cluster', 'node'], 'Keys and tokens stand alone.'),
  serverLayer('core', ['ws', 'http', 'auth', 'openai', 'imagine', 'page', 'cluster', 'node'], 'The task core is transport-independent: it knows no face.'),
  serverLayer('http', ['ws', 'openai', 'imagine', 'page', 'node'], 'The HTTP face knows the core, not the other faces.'),
  serverLayer('openai', ['ws', 'imagine', 'page', 'node'], 'The images API knows the core and HTTP, not the other faces.'),
  serverLayer('imagine', ['ws', 'page', 'node'], 'The imagine endpoint builds on the OpenAI-style conventions, not on the other faces.'),
  serverLayer('page', ['ws', 'core', 'openai', 'imagine', 'node'], 'The live page hands out tokens; it runs no tasks.'),
  serverLayer('ws', ['http', 'openai', 'imagine', 'page', 'node'], 'The WebSocket face knows the core, not the other faces.'),
  serverLayer('node', ['http', 'openai', 'page', 'outbound', 'auth'], 'A cluster node joins the Redis stores to the task core and the WebSocket face; the HTTP faces get it from server.ts, it knows none of them.'),
  serverLayer('observability', ['core', 'ws', 'openai', 'imagine', 'page', 'cluster', 'node'], 'Logs, metrics and health see the server through events and plain reads; they import no face, core or store.'),
  // outbound/ is allowed: the worker runs tasks, whose input fetches, uploads and webhooks go through the outbound policy.
  serverLayer('cluster', ['ws', 'http', 'auth', 'openai', 'imagine', 'page', 'node'], 'The Redis stores and the worker keep and run what the core does in memory: they know no face.'),
  serverLayer('usage', ['ws', 'http', 'auth', 'openai', 'imagine', 'page', 'node', 'cluster', 'images', 'outbound'], 'Scopes and usage sit beside the task core: they know no face and no store of Redis.'),
);
