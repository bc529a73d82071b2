#!/usr/bin/env node
// The `imagewire` command: `generate` images over a session, `serve` the reference server, `worker`
// to run the engine for a cluster's nodes.
import { Command, CommanderError, Option } from 'commander';
import { collect, collectList, parseFormat, parseInteger, parseNumber, parsePort, parseSize } from './args.js';
import { exitCodes } from './exit-codes.js';
import { runGenerate, type GenerateOptions } from './generate.js';
import { runHealthCommand, type HealthCommandOptions } from './health-command.js';
import { runServeCommand, type ServeCommandOptions } from './serve-command.js';
import { runWorkerCommand, type WorkerCommandOptions } from './worker-command.js';

const program = new Command()
  .name('imagewire')
  .description('Real-time image generation sessions over WebSockets (Runware protocol).')
  .showHelpAfterError()
  .exitOverride();

program
  .command('generate')
  .description('generate images for a prompt, watching them form; without --url and a key it runs the embedded local server')
  .argument('<prompt>', 'what to draw (2 to 3000 characters)')
  .option('--n <count>', 'number of images (1-20)', parseInteger, 1)
  .option('--size <WxH>', 'image size, multiples of 64 from 128 to 2048', parseSize, { width: 512, height: 512 })
  .option('--steps <steps>', 'inference steps (1-100)', parseInteger, 20)
  .option('--seed <seed>', 'seed of the first image; image k uses seed + k', parseInteger)
  .option('--model <air>', 'model AIR id', 'runware:101@1')
  .option('--format <format>', 'png, jpg or webp', parseFormat, 'png')
  .option('--out <dir>', 'folder to write the images to', 'imagewire-out')
  .option('--negative <prompt>', 'negative prompt')
  .option('--seed-image <file>', 'image file to start from (image-to-image)')
  .option('--strength <x>', 'how far to move away from the seed image, 0 to 1', parseNumber)
  .option('--cfg <scale>', 'guidance scale, 0 to 30', parseNumber)
  .option('--url <url>', 'server URL, e.g. wss://ws-api.runware.ai/v1 (needs a key)')
  .option('--api-key <key>', 'API key (or IMAGEWIRE_API_KEY)')
  .option('--step-delay <ms>', 'embedded server only: delay per engine step', parseInteger)
  .option('--json', 'print machine-readable results instead of progress bars', false)
  .action(async (prompt: string, options: GenerateOptions) => {
    process.exitCode = await runGenerate(prompt, options);
  });

/** A flag that may also come from the environment variable `name` (the flag wins). */
function fromEnv(flags: string, description: string, name: string): Option {
  return new Option(flags, description).env(name);
}

program
  .command('serve')
  .description('run the reference server (WebSocket and HTTP at /v1)')
  .addOption(fromEnv('--host <host>', 'address to listen on', 'IMAGEWIRE_HOST').default('127.0.0.1'))
  .addOption(fromEnv('--port <port>', 'port to listen on; 0 picks a free one', 'IMAGEWIRE_PORT').argParser(parsePort).default(8080))
  .option('--api-key <key>', 'accepted API key (repeatable; also IMAGEWIRE_API_KEYS=a,b); none means any key', collect, [])
  .addOption(fromEnv('--api-keys-file <file>', 'accepted API keys, one per line (# comments), so no key shows in a process list', 'IMAGEWIRE_API_KEYS_FILE'))
  .addOption(fromEnv('--step-delay <ms>', 'delay per engine step, so previews can be watched', 'IMAGEWIRE_STEP_DELAY_MS').argParser(parseInteger))
  .addOption(fromEnv('--public-url <url>', 'base of image URLs when the server sits behind a proxy', 'IMAGEWIRE_PUBLIC_URL'))
  .addOption(fromEnv('--allowed-origin <origin>', 'a browser origin (e.g. http://localhost:5173) whose pages may use the server (repeatable; the variable takes a comma-separated list)', 'IMAGEWIRE_ALLOWED_ORIGINS').argParser(collectList).default([]))
  .option('--no-page', 'do not serve the live page at /')
  .addOption(fromEnv('--allow-private-network', 'let input image URLs, webhooks and upload endpoints reach loopback and private addresses (development only)', 'IMAGEWIRE_ALLOW_PRIVATE_NETWORK').default(false))
  .addOption(fromEnv('--redis <url>', 'cluster mode: the Redis shared by every node and worker (redis://host:port, rediss://host:port or unix:/path.sock)', 'IMAGEWIRE_REDIS'))
  .option('--no-engine', 'with --redis: run no engine work on this node (imagewire worker processes do)')
  .addOption(fromEnv('--node-id <id>', "with --redis: this node's id in the cluster (default: a random UUID per start)", 'IMAGEWIRE_NODE_ID'))
  .addOption(fromEnv('--upstream <url>', 'gateway mode: run every task on this Runware-compatible WebSocket service (e.g. wss://ws-api.runware.ai/v1); its key is read from IMAGEWIRE_UPSTREAM_KEY', 'IMAGEWIRE_UPSTREAM'))
  .addOption(fromEnv('--shutdown-grace <ms>', 'on SIGTERM/SIGINT, how long running tasks may finish before they are cancelled', 'IMAGEWIRE_SHUTDOWN_GRACE_MS').argParser(parseInteger).default(30_000))
  .addOption(fromEnv('--admin-key <key>', 'credential of GET /v1/usage, at least 16 characters; prefer the variable, which no process list shows; none: the route answers 404', 'IMAGEWIRE_ADMIN_KEY'))
  .option('--metrics-token <token>', 'bearer token GET /metrics asks for (prefer IMAGEWIRE_METRICS_TOKEN: a flag shows in the process list); none: /metrics is open')
  .addOption(fromEnv('--openai-b64-json <form>', "b64_json of the OpenAI-style images API: data-uri (as the API it follows documents) or base64 (what OpenAI's clients decode)", 'IMAGEWIRE_OPENAI_B64_JSON').choices(['data-uri', 'base64']).default('data-uri'))
  .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (or IMAGEWIRE_LOG_LEVEL; default info)')
  .option('--log-format <format>', 'auto (readable on a terminal, JSON lines otherwise), json or pretty (or IMAGEWIRE_LOG_FORMAT); logs go to stderr')
  .action(async (options: ServeCommandOptions) => {
    process.exitCode = await runServeCommand(options);
  });

program
  .command('worker')
  .description('run the engine for tasks that serve --redis nodes accepted (any number of workers share the queue)')
  .addOption(fromEnv('--redis <url>', 'Redis of the cluster: redis://host:port, rediss://host:port or unix:/path.sock', 'IMAGEWIRE_REDIS').makeOptionMandatory())
  .addOption(fromEnv('--concurrency <n>', 'tasks run at the same time', 'IMAGEWIRE_CONCURRENCY').argParser(parseInteger).default(8))
  .addOption(fromEnv('--step-delay <ms>', 'delay per engine step, so previews can be watched', 'IMAGEWIRE_STEP_DELAY_MS').argParser(parseInteger))
  .addOption(fromEnv('--allow-private-network', 'let input image URLs, webhooks and upload endpoints reach loopback and private addresses (development only)', 'IMAGEWIRE_ALLOW_PRIVATE_NETWORK').default(false))
  .addOption(fromEnv('--upstream <url>', 'run tasks on this Runware-compatible WebSocket service instead of the procedural engine; its key is read from IMAGEWIRE_UPSTREAM_KEY', 'IMAGEWIRE_UPSTREAM'))
  .addOption(fromEnv('--metrics-port <port>', 'serve /metrics, /healthz and /readyz on this port (0 picks a free one); none: no listener', 'IMAGEWIRE_METRICS_PORT').argParser(parsePort))
  .addOption(fromEnv('--metrics-host <host>', 'address of the metrics listener', 'IMAGEWIRE_METRICS_HOST').default('127.0.0.1'))
  .option('--metrics-token <token>', 'bearer token the metrics listener asks for (prefer IMAGEWIRE_METRICS_TOKEN: a flag shows in the process list); none: open')
  .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (or IMAGEWIRE_LOG_LEVEL; default info)')
  .option('--log-format <format>', 'auto (readable on a terminal, JSON lines otherwise), json or pretty (or IMAGEWIRE_LOG_FORMAT); logs go to stderr')
  .action(async (options: WorkerCommandOptions) => {
    process.exitCode = await runWorkerCommand(options);
  });

program
  .command('health')
  .description('exit 0 when a running server answers its health route with 200 (for container health checks)')
  .option('--url <url>', 'the route to ask', `http://127.0.0.1:${process.env.IMAGEWIRE_PORT ?? '8080'}/healthz`)
  .option('--timeout <ms>', 'how long to wait for the answer', parseInteger, 3_000)
  .action(async (options: HealthCommandOptions) => {
    process.exitCode = await runHealthCommand(options);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version end with code 0; parse errors were already printed by commander.
    process.exitCode = error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
  } else {
    console.error(`imagewire: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = exitCodes.failure;
  }
}
