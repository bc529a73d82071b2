// Loads the optional peer dependency sharp on first use, so installing imagewire for its client
// alone never needs sharp's native binaries.
import type sharpDefault from 'sharp';
import { EngineError } from './engine.js';

/** sharp's default export, typed by sharp itself. */
export type Sharp = typeof sharpDefault;

/** The message users see when sharp cannot be loaded. */
export const missingSharpMessage =
  "imagewire's server and local engine need the optional dependency 'sharp' (npm install sharp); the client does not.";

/**
 * Builds a loader that imports sharp once and caches the promise. A failed import is not
 * cached, so installing sharp into a running process is picked up by the next call.
 * Exposed with an injectable importer so tests can simulate a missing package.
 */
export function createSharpLoader(importSharp: () => Promise<{ default: Sharp }>): () => Promise<Sharp> {
  let pending: Promise<Sharp> | undefined;
  return () => {
    pending ??= importSharp().then(
      (module) => module.default,
      (error: unknown) => {
        pending = undefined;
        // Any import failure (absent package, binaries for another platform) has the same cure.
        throw new EngineError('missingDependency', missingSharpMessage, { cause: error });
      },
    );
    return pending;
  };
}

/** Resolves to sharp, or rejects with `EngineError` code `missingDependency` when it is not installed. */
export const loadSharp: () => Promise<Sharp> = createSharpLoader(() => import('sharp'));
