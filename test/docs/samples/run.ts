// Runs a TypeScript or JavaScript sample as an ES module in a fresh Node process: TypeScript is
// stripped by esbuild (no type semantics change), the module is read from standard input with the
// package root as its base (so `imagewire` resolves by self-reference to the build) and runs in
// an empty temporary folder, killed if it has not ended within the time bound.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transform } from 'esbuild';
import type { Sample } from './markdown.js';
import { sourceOf } from './typecheck.js';

export interface SampleRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs one sample to its end; never rejects for the sample's own failure (the result says). */
export async function runSample(root: string, sample: Sample, timeoutMs: number): Promise<SampleRun> {
  const typescript = !['js', 'javascript', 'mjs'].includes(sample.lang);
  const source = sourceOf(sample);
  const module = typescript ? (await transform(source, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: `${sample.file}:${sample.line}` })).code : source;
  const workDir = await mkdtemp(join(tmpdir(), 'imagewire-doc-sample-'));
  // Imports are linked before any statement runs, so they still resolve from the package root.
  const program = `process.chdir(${JSON.stringify(workDir)});\n${module}`;
  try {
    return await new Promise<SampleRun>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, timedOut });
      });
      child.stdin.end(program);
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Lines of `expected` missing from `actual`, in order: each expected line must match a later line
 * of the output, where `…` stands for any text.
 */
export function missingOutput(expected: string, actual: string): string[] {
  const outputLines = actual.split('\n');
  let at = 0;
  const missing: string[] = [];
  for (const line of expected.split('\n').filter((entry) => entry.trim() !== '')) {
    const pattern = new RegExp(`^${line.trim().split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const found = outputLines.findIndex((candidate, index) => index >= at && pattern.test(candidate.trim()));
    if (found < 0) missing.push(line);
    else at = found + 1;
  }
  return missing;
}
