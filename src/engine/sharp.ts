// sharp with its own types, for the engine and the server's image code: the same cached loader as
// the public loadSharp (sharp-loader.ts), whose declarations stay free of sharp's types.
import type sharpDefault from 'sharp';
import { loadSharp as loadSharpModule } from './sharp-loader.js';

export { createSharpLoader, missingSharpMessage, sharpLoadFailureMessage } from './sharp-loader.js';

/** sharp's default export, typed by sharp itself. */
export type Sharp = typeof sharpDefault;

/** Resolves to sharp, or rejects with `EngineError` code `missingDependency` when it cannot be loaded. */
// The public loader resolves to `import('sharp')`'s default export: this only restores its type.
export const loadSharp = loadSharpModule as () => Promise<Sharp>;
