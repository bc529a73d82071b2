// docs/errors.md lists every code of the error table with its status and meaning.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../src/protocol/index.js';

const page = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  it.each(Object.entries(errorCodes))('documents %s', (code, info) => {
    expect(page).toContain(`| \`${code}\` | ${info.status} | ${info.description} |`);
  });

  it('documents no code that the table does not have', () => {
    const documented = [...page.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(Object.keys(errorCodes).sort());
  });
});
