#!/usr/bin/env node
// The `imagewire` command: `generate` images over a session, `serve` the reference server, `worker`
// to run the engine for a cluster's nodes, `health` to probe a server. Parsing and help live here.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_STEP_DELAY_MS } from '../engine/index.js';
import { limits } from '../protocol/index.js';
import { collect, collectList, parseFormat, parseInteger, parseNumber, parsePort, parseSeed, parseSize } from './args.js';
import { errorReport, printError, usageHint } from './error-report.js';
import { exitCodes } from './exit-codes.js';
import { helpWithExitCodes } from './help.js';
import { runGenerate, type GenerateOptions } from './generate.js';
import { runHealthCommand, type HealthCommandOptions } from './health-command.js';
import { runServeCommand, type ServeCommandOptions } from './serve-command.js';
import { runWorkerCommand, type WorkerCommandOptions } from './worker-command.js';

/** dist/cli/main.js and src/cli/main.ts both sit two folders below the package's root. */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** `generate ... --json`: its errors, parse errors included, become one JSON document on stderr. */
const args = process.argv.slice(2);
const dashDash = args.indexOf('--');
const generateJson = args[0] === 'generate' && (dashDash === -1 ? args : args.slice(0, dashDash)).includes('--json');

const program = new Command()
  .name('imagewire')
  .description('Real-time image generation sessions over WebSockets (Runware protocol).')
  .version(version, '-V, --version', 'print the version of imagewire')
  .showHelpAfterError(usageHint())
  .exitOverride()
  .configureHelp(helpWithExitCodes({ ok: 'done (help, version, or the command succeeded)', usage: 'an unknown command or option' }))
  .addHelpText('after', "Run 'imagewire <command> --help' for a command's options and exit codes.");

/** A flag that may also come from the environment variable `name` (the flag wins). */
function fromEnv(flags: string, description: string, name: string): Option {
  return new Option(flags, description).env(name);
}

/** The value of an option only when the command line or the environment gave it, not its default. */
function given<T>(command: Command, key: string, value: T | undefined): T | undefined {
  return command.getOptionValueSource(key) === 'default' ? undefined : value;
}

const stepDelayDefault = `${DEFAULT_STEP_DELAY_MS} ms`;

program
  .command('generate')
  .description('generate images for a prompt, watching them form; without --url and a key it runs the embedded local server')
  .showHelpAfterError(usageHint('generate'))
  .argument('<prompt>', 'what to draw (2 to 3000 characters)')
  .addOption(new Option('-n, --n <count>', `number of images (${limits.numberResults.min}-${limits.numberResults.max})`).argParser(parseInteger).default(1))
  .addOption(new Option('--size <WxH>', 'image size, multiples of 64 from 128 to 2048').argParser(parseSize).default({ width: 512, height: 512 }, '512x512'))
  .addOption(new Option('--steps <steps>', `inference steps (${limits.steps.min}-${limits.steps.max})`).argParser(parseInteger).default(limits.steps.default))
  .addOption(new Option('--seed <seed>', `seed of the first image, ${limits.seed.min} to ${limits.seed.max}; image k uses seed + k (default: random)`).argParser(parseSeed))
  .addOption(new Option('--model <air>', 'model AIR id').default('runware:101@1', 'runware:101@1'))
  .addOption(new Option('--format <format>', 'png, jpg or webp').argParser(parseFormat).default('png', 'png'))
  .addOption(new Option('--out <dir>', 'folder to write the images to (created when missing)').default('imagewire-out', 'imagewire-out'))
  .option('--negative <prompt>', 'negative prompt')
  .option('--seed-image <file>', 'a PNG, JPEG or WebP file to start from (image-to-image)')
  .option('--strength <x>', `with --seed-image: how far to move away from it, 0 to 1 (default: ${limits.strength.default})`, parseNumber)
  .option('--cfg <scale>', `guidance scale, ${limits.CFGScale.min} to ${limits.CFGScale.max} (default: the server's; ${limits.CFGScale.default} on imagewire)`, parseNumber)
  .option('--url <url>', 'server WebSocket URL such as wss://ws-api.runware.ai/v1 (needs a key)')
  .option('--api-key <key>', 'API key for --url (or IMAGEWIRE_API_KEY); never printed')
  .addOption(new Option('--step-delay <ms>', 'embedded server only: delay per engine step, so previews can be watched').argParser(parseInteger).default(DEFAULT_STEP_DELAY_MS, stepDelayDefault))
  .option('--json', 'print the result as JSON on stdout instead of progress and paths; an error is then {"error": ...} on stderr')
  .configureHelp(helpWithExitCodes({
      ok: 'every image written',
      failure: 'the server failed the task, or a file could not be written',
      usage: 'a bad argument or --out folder (checked before any server starts), or a request the protocol refuses',
      authentication: 'the server refused the API key',
      connection: 'the server could not be reached, or the connection was lost for good',
      interrupted: 'interrupted (Ctrl-C or SIGTERM); the task was cancelled',
    }))
  .action(async (prompt: string, options: GenerateOptions, command: Command) => {
    const stepDelay = given(command, 'stepDelay', options.stepDelay);
    const { stepDelay: _default, ...rest } = options;
    process.exitCode = await runGenerate(prompt, { ...rest, ...(stepDelay === undefined ? {} : { stepDelay }) });
  });

const logLevelOption = (): Option => fromEnv('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent', 'IMAGEWIRE_LOG_LEVEL').default('info', 'info');
const logFormatOption = (): Option => fromEnv('--log-format <format>', 'auto (readable on a terminal, JSON lines otherwise), json or pretty; logs go to stderr', 'IMAGEWIRE_LOG_FORMAT').default('auto', 'auto');
const privateNetworkOption = (): Option =>
  fromEnv('--allow-private-network', 'let input image URLs, webhooks and upload endpoints reach loopback and private addresses (development only)', 'IMAGEWIRE_ALLOW_PRIVATE_NETWORK').default(false, 'off');

program
  .command('serve')
  .description('run the reference server (WebSocket and HTTP at /v1)')
  .showHelpAfterError(usageHint('serve'))
  .addOption(fromEnv('--host <host>', 'address to listen on', 'IMAGEWIRE_HOST').default('127.0.0.1', '127.0.0.1'))
  .addOption(fromEnv('--port <port>', 'port to listen on; 0 picks a free one', 'IMAGEWIRE_PORT').argParser(parsePort).default(8080))
  .addOption(new Option('--api-key <key>', 'accepted API key (repeatable; also IMAGEWIRE_API_KEYS=a,b)').argParser(collect).default([], 'none: any non-empty key (open mode)'))
  .addOption(fromEnv('--api-keys-file <file>', 'accepted API keys, one per line (# comments), so no key shows in a process list', 'IMAGEWIRE_API_KEYS_FILE'))
  .addOption(fromEnv('--step-delay <ms>', 'delay per engine step, so previews can be watched', 'IMAGEWIRE_STEP_DELAY_MS').argParser(parseInteger).default(DEFAULT_STEP_DELAY_MS, stepDelayDefault))
  .addOption(fromEnv('--public-url <url>', 'base of image URLs when the server sits behind a proxy (default: http://HOST:PORT)', 'IMAGEWIRE_PUBLIC_URL'))
  .addOption(fromEnv('--allowed-origin <origin>', 'a browser origin (e.g. http://localhost:5173) whose pages may use the server (repeatable; the variable takes a comma-separated list)', 'IMAGEWIRE_ALLOWED_ORIGINS').argParser(collectList).default([], 'none'))
  .option('--no-page', 'do not serve the live page at /')
  .addOption(privateNetworkOption())
  .addOption(fromEnv('--redis <url>', 'cluster mode: the Redis shared by every node and worker (redis://host:port, rediss://host:port or unix:/path.sock)', 'IMAGEWIRE_REDIS'))
  .option('--no-engine', 'with --redis: run no engine work on this node (imagewire worker processes do)')
  .addOption(fromEnv('--node-id <id>', "with --redis: this node's id in the cluster (default: a random UUID per start)", 'IMAGEWIRE_NODE_ID'))
  .addOption(fromEnv('--upstream <url>', 'gateway mode: run every task on this Runware-compatible WebSocket service (e.g. wss://ws-api.runware.ai/v1); its key is read from IMAGEWIRE_UPSTREAM_KEY', 'IMAGEWIRE_UPSTREAM'))
  .addOption(fromEnv('--shutdown-grace <ms>', 'on SIGTERM/SIGINT, how long running tasks may finish before they are cancelled', 'IMAGEWIRE_SHUTDOWN_GRACE_MS').argParser(parseInteger).default(30_000, '30000 ms'))
  .addOption(fromEnv('--admin-key <key>', 'credential of GET /v1/usage, at least 16 characters; prefer the variable, which no process list shows; none: the route answers 404', 'IMAGEWIRE_ADMIN_KEY'))
  .option('--metrics-token <token>', 'bearer token GET /metrics asks for (prefer IMAGEWIRE_METRICS_TOKEN: a flag shows in the process list); none: /metrics is open')
  .addOption(fromEnv('--openai-b64-json <form>', "b64_json of the OpenAI-style images API: data-uri (as the API it follows documents) or base64 (what OpenAI's clients decode)", 'IMAGEWIRE_OPENAI_B64_JSON').choices(['data-uri', 'base64']).default('data-uri', 'data-uri'))
  .addOption(logLevelOption())
  .addOption(logFormatOption())
  .configureHelp(helpWithExitCodes({
      ok: 'stopped gracefully after SIGINT or SIGTERM',
      failure: 'the server did not shut down cleanly',
      usage: 'a bad flag or environment variable',
      connection: 'the port cannot be bound, or Redis cannot be reached at start',
      interrupted: 'a second signal while stopping',
    }))
  .action(async (options: ServeCommandOptions, command: Command) => {
    const stepDelay = given(command, 'stepDelay', options.stepDelay);
    const { stepDelay: _default, ...rest } = options;
    process.exitCode = await runServeCommand({ ...rest, ...(stepDelay === undefined ? {} : { stepDelay }) });
  });

program
  .command('worker')
  .description('run the engine for tasks that serve --redis nodes accepted (any number of workers share the queue)')
  .showHelpAfterError(usageHint('worker'))
  .addOption(fromEnv('--redis <url>', 'Redis of the cluster: redis://host:port, rediss://host:port or unix:/path.sock', 'IMAGEWIRE_REDIS').makeOptionMandatory())
  .addOption(fromEnv('--concurrency <n>', 'tasks run at the same time', 'IMAGEWIRE_CONCURRENCY').argParser(parseInteger).default(8))
  .addOption(fromEnv('--step-delay <ms>', 'delay per engine step, so previews can be watched', 'IMAGEWIRE_STEP_DELAY_MS').argParser(parseInteger).default(DEFAULT_STEP_DELAY_MS, stepDelayDefault))
  .addOption(privateNetworkOption())
  .addOption(fromEnv('--upstream <url>', 'run tasks on this Runware-compatible WebSocket service instead of the procedural engine; its key is read from IMAGEWIRE_UPSTREAM_KEY', 'IMAGEWIRE_UPSTREAM'))
  .addOption(fromEnv('--metrics-port <port>', 'serve /metrics, /healthz and /readyz on this port (0 picks a free one); none: no listener', 'IMAGEWIRE_METRICS_PORT').argParser(parsePort))
  .addOption(fromEnv('--metrics-host <host>', 'address of the metrics listener', 'IMAGEWIRE_METRICS_HOST').default('127.0.0.1', '127.0.0.1'))
  .option('--metrics-token <token>', 'bearer token the metrics listener asks for (prefer IMAGEWIRE_METRICS_TOKEN: a flag shows in the process list); none: open')
  .addOption(logLevelOption())
  .addOption(logFormatOption())
  .configureHelp(helpWithExitCodes({
      ok: 'stopped gracefully after SIGINT or SIGTERM',
      failure: 'the worker did not stop cleanly',
      usage: 'a bad flag or environment variable',
      connection: 'the worker could not start',
      interrupted: 'a second signal while stopping',
    }))
  .action(async (options: WorkerCommandOptions, command: Command) => {
    const stepDelay = given(command, 'stepDelay', options.stepDelay);
    const { stepDelay: _default, ...rest } = options;
    process.exitCode = await runWorkerCommand({ ...rest, ...(stepDelay === undefined ? {} : { stepDelay }) });
  });

const healthUrl = `http://127.0.0.1:${process.env.IMAGEWIRE_PORT ?? '8080'}/healthz`;
program
  .command('health')
  .description('exit 0 when a running server answers its health route with 200 (for container health checks)')
  .showHelpAfterError(usageHint('health'))
  .addOption(new Option('--url <url>', 'the route to ask').default(healthUrl, healthUrl))
  .addOption(new Option('--timeout <ms>', 'how long to wait for the answer').argParser(parseInteger).default(3_000, '3000 ms'))
  .configureHelp(helpWithExitCodes({ ok: 'the route answered 200 within --timeout', failure: 'any other answer, or none in time', usage: 'a bad flag' }))
  .action(async (options: HealthCommandOptions) => {
    process.exitCode = await runHealthCommand(options);
  });

if (generateJson) {
  // Parse errors are reported below as JSON; commander's own lines would be a second format.
  program.commands.find((command) => command.name() === 'generate')?.configureOutput({ outputError: () => undefined, writeErr: () => undefined });
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version end with code 0; parse errors were already printed by commander.
    process.exitCode = error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    if (generateJson && error.exitCode !== 0) printError(errorReport(exitCodes.usage, error.message.replace(/^error: /, '')), { json: true, command: 'generate' });
  } else {
    printError(errorReport(exitCodes.failure, error instanceof Error ? error.message : String(error)), { json: generateJson, command: args[0] ?? '' });
  }
}
