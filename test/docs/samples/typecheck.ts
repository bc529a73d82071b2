// Type-checks TypeScript and JavaScript samples as modules of a program beside package.json, so
// `imagewire`, `imagewire/server`, ... resolve by package self-reference to the build's types, as
// they would in an application that installed the package. Fragments get their marker's prelude.
import { join, relative } from 'node:path';
import ts from 'typescript';
import type { Sample } from './markdown.js';

/** A type error of one sample, with its line in the Markdown file. */
export interface SampleDiagnostic {
  readonly sample: Sample;
  readonly line: number;
  readonly message: string;
}

/** The strict options of the package's own code (tsconfig.base.json), for modules run by Node. */
function compilerOptions(root: string): ts.CompilerOptions {
  const file = join(root, 'tsconfig.base.json');
  const read = ts.readConfigFile(file, (path) => ts.sys.readFile(path));
  if (read.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, file);
  return { ...parsed.options, noEmit: true, allowJs: true, checkJs: true, moduleDetection: ts.ModuleDetectionKind.Force, types: ['node'] };
}

/**
 * Type-checks plain JavaScript files of the package (the examples) as their editor would: checkJs
 * with TypeScript's non-strict defaults, so a wrong option name or a removed export is an error
 * while JavaScript's untyped parameters are not. Returns every error as `file:line: message`.
 */
export function typecheckJavaScriptFiles(root: string, files: readonly string[]): string[] {
  const options: ts.CompilerOptions = { ...compilerOptions(root), strict: false, useUnknownInCatchVariables: false, noUncheckedIndexedAccess: false, exactOptionalPropertyTypes: false, moduleDetection: ts.ModuleDetectionKind.Auto };
  const program = ts.createProgram({ rootNames: files.map((file) => join(root, file)), options });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (diagnostic.file === undefined || diagnostic.start === undefined) return message;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `${relative(root, diagnostic.file.fileName)}:${line + 1}: ${message}`;
  });
}

/** The virtual file name of a sample: in the package root, so self-reference applies. */
export function virtualName(root: string, sample: Sample): string {
  const javascript = sample.lang === 'js' || sample.lang === 'javascript' || sample.lang === 'mjs';
  return join(root, `doc-sample--${sample.file.replace(/[/.]/g, '-')}-${sample.line}.${javascript ? 'mjs' : 'mts'}`);
}

/** The checked text: the marker's prelude, then the block. */
export function sourceOf(sample: Sample): string {
  return sample.prelude === '' ? sample.code : `${sample.prelude}\n${sample.code}`;
}

function preludeLines(sample: Sample): number {
  return sample.prelude === '' ? 0 : sample.prelude.split('\n').length;
}

/** Type-checks every sample in one program; returns every error, placed in its Markdown file. */
export function typecheckSamples(root: string, samples: readonly Sample[]): SampleDiagnostic[] {
  const options = compilerOptions(root);
  const virtual = new Map(samples.map((sample) => [virtualName(root, sample), sample]));
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (path) => virtual.has(path) || fileExists.call(host, path);
  host.readFile = (path) => {
    const sample = virtual.get(path);
    return sample === undefined ? readFile.call(host, path) : sourceOf(sample);
  };
  host.getSourceFile = (path, languageVersion, onError, shouldCreate) => {
    const sample = virtual.get(path);
    if (sample === undefined) return getSourceFile.call(host, path, languageVersion, onError, shouldCreate);
    return ts.createSourceFile(path, sourceOf(sample), languageVersion, true);
  };
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });
  const diagnostics: SampleDiagnostic[] = [];
  for (const [path, sample] of virtual) {
    const source = program.getSourceFile(path);
    if (source === undefined) throw new Error(`${sample.file}:${sample.line}: not part of the program`);
    for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const at = diagnostic.start === undefined ? 0 : source.getLineAndCharacterOfPosition(diagnostic.start).line;
      const inBlock = at - preludeLines(sample);
      const line = inBlock < 0 ? sample.line : sample.line + 1 + inBlock;
      const where = inBlock < 0 ? ' (in the marker\'s prelude)' : '';
      diagnostics.push({ sample, line, message: `${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}${where}` });
    }
  }
  return diagnostics;
}
