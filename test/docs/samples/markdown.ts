// Cuts the fenced code blocks out of the project's Markdown files, with the `<!-- sample: ... -->`
// marker that may stand before a block (how the block is checked, and hidden context it assumes).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How a block is checked.
 * - `run` (the default): checked by its language's checker; TypeScript and JavaScript are type-checked, then run to completion.
 * - `typecheck-only`: type-checked, never run (needs a real API key, Redis, a browser, or is a fragment).
 * - `output`: the expected standard output of the runnable block above it (`…` matches anything).
 * - `not-checked`: shown as is, checked by nothing (the marker must say why).
 */
export type SampleMode = 'run' | 'typecheck-only' | 'output' | 'not-checked';

export interface Sample {
  /** Markdown file, relative to the package root. */
  readonly file: string;
  /** Line of the opening fence, 1-based. */
  readonly line: number;
  /** The fence's info string's first word, lower case ('' when none). */
  readonly lang: string;
  readonly code: string;
  /** From the marker, or the language's default. */
  readonly mode: SampleMode;
  /** Why the block is not run, as the marker says. */
  readonly reason: string;
  /** Hidden lines of the marker (declarations a fragment assumes), put before the code when checked. */
  readonly prelude: string;
  /** For a runnable block: the expected output block that follows it. */
  expectedOutput?: string;
}

const modes: readonly SampleMode[] = ['run', 'typecheck-only', 'output', 'not-checked'];

/** Languages whose blocks are type-checked (and run unless marked). */
export const scriptLanguages = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);

interface Marker {
  readonly mode: SampleMode;
  readonly reason: string;
  readonly prelude: string;
}

/** The marker comment ending on line `end` (a blank line may separate it from the fence), if any. */
function markerBefore(lines: readonly string[], fence: number, where: string): Marker | undefined {
  let end = fence - 1;
  while (end >= 0 && lines[end]?.trim() === '') end--;
  if (end < 0 || !(lines[end] ?? '').trimEnd().endsWith('-->')) return undefined;
  let start = end;
  while (start >= 0 && !(lines[start] ?? '').includes('<!--')) start--;
  const text = lines.slice(start, end + 1).join('\n');
  const match = /^\s*<!--\s*sample:\s*([a-z-]+)([^\n]*?)(?:-->)?\s*(?:\n([\s\S]*?))?-->\s*$/.exec(text);
  if (match === null) return undefined;
  const mode = match[1] as SampleMode;
  if (!modes.includes(mode)) throw new Error(`${where}: unknown sample mode "${match[1]}" (one of ${modes.join(', ')})`);
  const reason = (match[2] ?? '').replace(/^[\s:;,—–-]+/, '').trim();
  if ((mode === 'typecheck-only' || mode === 'not-checked') && reason === '') throw new Error(`${where}: a "${mode}" marker says why (<!-- sample: ${mode} — reason -->)`);
  return { mode, reason, prelude: match[3] ?? '' };
}

/** Every fenced block of one Markdown text. */
export function extractSamples(file: string, text: string): Sample[] {
  const lines = text.split('\n');
  const samples: Sample[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[index] ?? '');
    if (open === null) continue;
    const [, indent = '', fence = '```', info = ''] = open;
    let close = index + 1;
    while (close < lines.length && !(lines[close] ?? '').trim().startsWith(fence)) close++;
    if (close >= lines.length) throw new Error(`${file}:${index + 1}: code block never closed`);
    const code = lines.slice(index + 1, close).map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line)).join('\n');
    const lang = info.toLowerCase();
    const marker = markerBefore(lines, index, `${file}:${index + 1}`);
    const mode = marker?.mode ?? 'run';
    const sample: Sample = { file, line: index + 1, lang, code, mode, reason: marker?.reason ?? '', prelude: marker?.prelude ?? '' };
    if (mode === 'output') {
      const previous = samples.at(-1);
      if (previous === undefined || previous.mode !== 'run') throw new Error(`${file}:${index + 1}: an output block follows a runnable block`);
      previous.expectedOutput = code;
    }
    samples.push(sample);
    index = close;
  }
  return samples;
}

/** The Markdown files whose samples are checked: README.md, docs/*.md and the examples' READMEs. */
export function documentationFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`);
  const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'examples', entry.name, 'README.md')))
    .map((entry) => `examples/${entry.name}/README.md`)
    .sort();
  return ['README.md', ...docs, 'examples/README.md', ...examples];
}

/** Every sample of every documentation file. */
export function allSamples(root: string): Sample[] {
  return documentationFiles(root).flatMap((file) => extractSamples(file, readFileSync(join(root, file), 'utf8')));
}
