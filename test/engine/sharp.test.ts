// sharp is loaded lazily and once; when it cannot be loaded the engine says how to fix it.
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { EngineError } from '../../src/engine/index.js';
import { createSharpLoader, loadSharp, missingSharpMessage, type Sharp } from '../../src/engine/sharp.js';

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
    expect(error).toMatchObject({ code: 'missingDependency', message: missingSharpMessage, cause: missing });
    expect(missingSharpMessage).toBe("imagewire's server and local engine need the optional dependency 'sharp' (npm install sharp); the client does not.");
    await load().catch(() => undefined);
    expect(importer).toHaveBeenCalledTimes(2);
  });
});
