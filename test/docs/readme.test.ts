// The README's client example runs as written: it is cut out of README.md and run as an ES module
// inside the package (so `imagewire` resolves through the exports map to the build).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
// A leading newline lets the title heading be found like any other.
const readme = `\n${readFileSync(join(root, 'README.md'), 'utf8')}`;
const workDir = mkdtempSync(join(tmpdir(), 'imagewire-readme-'));

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** The first fenced block of the given language after a heading. */
function block(heading: string, language: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no "${heading}" section`);
  const open = readme.indexOf(`\`\`\`${language}\n`, start);
  const close = readme.indexOf('\n```', open + 3);
  return readme.slice(open + language.length + 4, close);
}

describe('README', () => {
  it('starts with the set-up command that runs the CLI on the embedded default, then the test command', () => {
    const [first, second] = block('# imagewire', 'sh').trim().split('\n');
    expect(first).toMatch(/^npm ci && npm run imagewire -- generate "[^"]+"/);
    expect(second).toBe('npm test');
  });

  it('has a client example that runs: previews for both images, then two PNG files', () => {
    // Static imports are linked before this statement runs, so they still resolve from the package.
    const code = `process.chdir(${JSON.stringify(workDir)});\n${block('## Use the client', 'js')}`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(out).toContain('image 0: step 8/8');
    expect(out).toContain('image 1: step 8/8');
    expect(out.trim().endsWith('done: 2 images')).toBe(true);
    for (const name of ['fox-0.png', 'fox-1.png']) {
      const bytes = readFileSync(join(workDir, name));
      expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(bytes.readUInt32BE(16)).toBe(256);
    }
  });
});
