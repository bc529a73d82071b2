// The lazy loader of the optional peer dependency sharp and its messages, as the public API sees
// them: these declarations never name sharp's types, so an app type-checks imagewire/server
// without sharp installed (the typed loader the engine uses is in sharp.ts).
import { EngineError } from './engine.js';

/** The message users see when sharp cannot be loaded. */
export const missingSharpMessage =
  "imagewire's server and local engine need the optional dependency 'sharp' (npm install sharp); the client does not.";

/** How long the underlying error's text may be in the message (sharp's own advice is a few lines). */
const maxCauseLength = 2_000;

/**
 * The message for a failed import: the install advice, then what actually failed, so a sharp that
 * is installed but cannot load (binaries for another platform, a Node too old to parse it) is not
 * mistaken for a missing one. The error itself stays the `cause`.
 */
export function sharpLoadFailureMessage(error: unknown): string {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const text = detail.length > maxCauseLength ? `${detail.slice(0, maxCauseLength)}…` : detail;
  // sharp's ES modules use import attributes (`with { type: 'json' }`), which older Nodes cannot parse.
  const hint = error instanceof SyntaxError ? ` (Node.js ${process.version} cannot parse this version of sharp; imagewire needs Node.js >= 20.19.0)` : '';
  return `${missingSharpMessage} Loading it failed: ${text}${hint}`;
}

/**
 * Builds a loader that imports sharp once and caches the promise. A failed import is not
 * cached, so installing sharp into a running process is picked up by the next call.
 * Exposed with an injectable importer so tests can simulate a missing package.
 */
export function createSharpLoader<TSharp>(importSharp: () => Promise<{ default: TSharp }>): () => Promise<TSharp> {
  let pending: Promise<TSharp> | undefined;
  return () => {
    pending ??= importSharp().then(
      (module) => module.default,
      (error: unknown) => {
        pending = undefined;
        throw new EngineError('missingDependency', sharpLoadFailureMessage(error), { cause: error });
      },
    );
    return pending;
  };
}

const loadSharpModule = createSharpLoader(() => import('sharp'));

/**
 * Loads sharp (once), for an early check that the server can run: resolves to sharp's default
 * export, or rejects with `EngineError` code `missingDependency` whose message says what failed
 * (its `cause` is the import's error). Typed `unknown` here so that imagewire's declarations do
 * not need sharp's types; `import sharp from 'sharp'` for a typed sharp.
 */
export function loadSharp(): Promise<unknown> {
  return loadSharpModule();
}
