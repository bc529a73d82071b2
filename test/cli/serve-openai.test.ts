// `imagewire serve --openai-b64-json base64` (or IMAGEWIRE_OPENAI_B64_JSON): the images API sends
// bare base64 in b64_json, so the openai package's usual recipe writes a real PNG; a bad form is a
// usage error. Spawns the built CLI.
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnImagewire, startChildServer, type ChildProcessHandle } from '../helpers/child-server.js';
import { pngSize } from '../helpers/images-api.js';
import { exitCodes } from '../../src/cli/exit-codes.js';

const children: ChildProcessHandle[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.close()));
});

/** The first b64_json of a generation on the server at `httpUrl`. */
async function firstB64Json(httpUrl: string): Promise<string> {
  const client = new OpenAI({ apiKey: 'any-key', baseURL: `${httpUrl}/v1`, maxRetries: 0 });
  const answer = await client.images.generate({ prompt: 'a lighthouse at dusk', size: '256x256' });
  return answer.data?.[0]?.b64_json ?? '';
}

describe('imagewire serve --openai-b64-json', () => {
  it('sends bare base64 with the flag or the variable, a data URI without either', async () => {
    for (const [args, env] of [[['--openai-b64-json', 'base64'], {}], [[], { IMAGEWIRE_OPENAI_B64_JSON: 'base64' }]] as const) {
      const server = await startChildServer(['--no-page', '--step-delay', '0', ...args], { env });
      children.push(server);
      expect(pngSize(Buffer.from(await firstB64Json(server.httpUrl), 'base64'))).toEqual({ width: 256, height: 256 });
    }
    const plain = await startChildServer(['--no-page', '--step-delay', '0']);
    children.push(plain);
    expect(await firstB64Json(plain.httpUrl)).toMatch(/^data:image\/png;base64,/);
  });

  it('refuses another form with the usage exit code', async () => {
    const child = spawnImagewire(['serve', '--port', '0', '--openai-b64-json', 'hex']);
    children.push(child);
    await child.exited;
    expect(child.exit()?.code).toBe(exitCodes.usage);
    expect(child.stderr()).toContain('data-uri');
  });
});
