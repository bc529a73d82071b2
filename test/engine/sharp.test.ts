// sharp is loaded lazily and once; when it cannot be loaded the engine says how to fix it and what
// failed.
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { EngineError } from '../../src/engine/index.js';
import { createSharpLoader, loadSharp, missingSharpMessage, type Sharp } from '../../src/engine/sharp.js';
import { loadSharp as publicLoadSharp } from '../../src/engine/index.js';

describe('loading sharp', () => {
  it('resolves to sharp itself and caches the promise', async () => {
    expect(loadSharp()).toBe(loadSharp());
    expect(await loadSharp()).toBe(sharp);
  });

  it('imports once however often it is asked', async () => {
    const importer = vi.fn(() => Promise.resolve({ default: sharp as Sharp }));
    const load = createSharpLoader(importer);
    await Promise.all([load(), load(), load()]);
    expect(importer).toHaveBeenCalledTimes(1);
  });

  it('reports a missing sharp as missingDependency with install advice, and tries again next time', async () => {
    const missing = Object.assign(new Error("Cannot find package 'sharp'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const importer = vi.fn(() => Promise.reject(missing));
    const load = createSharpLoader(importer);
    const error: unknown = await load().catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'missingDependency', cause: missing });
    expect(missingSharpMessage).toBe("imagewire's server and local engine need the optional dependency 'sharp' (npm install sharp); the client does not.");
    expect((error as Error).message).toBe(`${missingSharpMessage} Loading it failed: Error: Cannot find package 'sharp'`);
    await load().catch(() => undefined);
    expect(importer).toHaveBeenCalledTimes(2);
  });

  it('shows why an installed sharp failed to load: its error is the cause and its message is in the text', async () => {
    // What Node 20.9 says about sharp 0.35's `import pkg from "../package.json" with { type: "json" }`.
    const tooOld = new SyntaxError("Unexpected token 'with'");
    const load = createSharpLoader(() => Promise.reject(tooOld));
    const error: unknown = await load().catch((reason: unknown) => reason);
    expect(error).toMatchObject({ code: 'missingDependency', cause: tooOld });
    const message = (error as Error).message;
    expect(message.startsWith(missingSharpMessage)).toBe(true);
    expect(message).toContain("Loading it failed: SyntaxError: Unexpected token 'with'");
    expect(message).toContain(`Node.js ${process.version} cannot parse this version of sharp`);
    // A platform mismatch: sharp's own multi-line advice is kept.
    const platform = new Error('Could not load the "sharp" module using the linux-x64 runtime\nPossible solutions:\n- Install with verbose logging');
    const second: unknown = await createSharpLoader(() => Promise.reject(platform))().catch((reason: unknown) => reason);
    expect((second as Error).message).toContain('using the linux-x64 runtime\nPossible solutions:');
    expect((second as Error).message).not.toContain('cannot parse');
  });

  it('exports a loader whose declarations do not name sharp, resolving to sharp itself', async () => {
    expect(await publicLoadSharp()).toBe(sharp);
  });
});
