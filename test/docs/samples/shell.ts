// Checks the command lines of shell samples: every `imagewire ...` line names a command the CLI has
// and only options that command's `--help` lists; every `npm run X` / `npm test` names a script of
// package.json; every `node path/to/file.mjs` names a file that exists. Generic on purpose: the CLI's own help is the reference, so new options need no
// change here.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One problem of a shell sample, relative to the block's first line. */
export interface ShellProblem {
  readonly offset: number;
  readonly message: string;
}

/** Words of one command, with shell quoting undone (no expansion: `$X` stays as written). */
function words(command: string): string[] {
  const result: string[] = [];
  let current = '';
  let quote: string | undefined;
  let started = false;
  for (const char of command) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started || current !== '') result.push(current);
      current = '';
      started = false;
    } else current += char;
  }
  if (started || current !== '') result.push(current);
  return result;
}

/** Cuts a line at its comment and into its commands (`&&`, `||`, `;`, `|`, `&`), outside quotes. */
function commands(line: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let index = 0; index < line.length; index++) {
    const char = line[index] ?? '';
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      current += char;
    } else if (char === '#' && (index === 0 || /\s/.test(line[index - 1] ?? ''))) break;
    else if (';|&'.includes(char)) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

/** The arguments given to the imagewire CLI by one command, or undefined when it runs something else. */
function cliArguments(argv: readonly string[]): string[] | undefined {
  const rest = withoutAssignments(argv);
  if (rest[0] === 'npx' && rest[1] === 'imagewire') return rest.slice(2);
  if (rest[0] === 'imagewire') return rest.slice(1);
  if (rest[0] === 'npm' && rest[1] === 'run' && rest[2] === 'imagewire') return rest[3] === '--' ? rest.slice(4) : rest.slice(3);
  return undefined;
}

/** The command without its leading variable assignments (`NAME=value cmd ...`). */
function withoutAssignments(argv: readonly string[]): string[] {
  let rest = [...argv];
  while (rest.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0] ?? '')) rest = rest.slice(1);
  return rest;
}

/** The script file a `node path/to/file.mjs` command runs, or undefined. */
function nodeScript(argv: readonly string[]): string | undefined {
  const rest = withoutAssignments(argv);
  return rest[0] === 'node' && /\.(mjs|cjs|js)$/.test(rest[1] ?? '') ? rest[1] : undefined;
}

/** The npm script a command runs, or undefined. */
function npmScript(argv: readonly string[]): string | undefined {
  if (argv[0] !== 'npm') return undefined;
  if (argv[1] === 'test' || argv[1] === 't') return 'test';
  if (argv[1] === 'run' || argv[1] === 'run-script') return argv[2];
  return undefined;
}

/** The CLI's help texts, read once per command from the build. */
export class CliHelp {
  readonly #root: string;
  readonly #cache = new Map<string, string>();

  constructor(root: string) {
    this.#root = root;
  }

  help(command: string | undefined): string {
    const key = command ?? '';
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const args = [join(this.#root, 'dist/cli/main.js'), ...(command === undefined ? [] : [command]), '--help'];
    const text = execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 20_000 });
    this.#cache.set(key, text);
    return text;
  }

  /** The command names the top-level help lists. */
  commands(): string[] {
    const section = this.help(undefined).split(/^Commands:$/m)[1] ?? '';
    return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((match) => match[1] ?? '');
  }
}

function optionListed(help: string, option: string): boolean {
  const escaped = option.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[\\s,])${escaped}(?![\\w-])`, 'm').test(help);
}

/** Problems of one imagewire command line. */
function checkCli(cli: CliHelp, args: readonly string[]): string[] {
  const cleaned = args.map((arg) => arg.replace(/^\[+/, '').replace(/\]+$/, '')).filter((arg) => arg !== '');
  const command = cleaned[0];
  if (command === undefined || command.startsWith('-')) {
    return cleaned.filter((arg) => arg.startsWith('-') && !optionListed(cli.help(undefined), arg.split('=')[0] ?? arg)).map((arg) => `imagewire has no option ${arg}`);
  }
  if (!cli.commands().includes(command)) return [`imagewire has no command "${command}" (${cli.commands().join(', ')})`];
  const help = cli.help(command);
  const problems: string[] = [];
  for (const arg of cleaned.slice(1)) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const option = arg.split('=')[0] ?? arg;
    if (!optionListed(help, option)) problems.push(`imagewire ${command} has no option ${option} (see imagewire ${command} --help)`);
  }
  return problems;
}

/** Checks one shell block. */
export function checkShellSample(root: string, cli: CliHelp, code: string): ShellProblem[] {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  const problems: ShellProblem[] = [];
  const lines = code.split('\n');
  for (let offset = 0; offset < lines.length; offset++) {
    let line = lines[offset] ?? '';
    const first = offset;
    while (line.endsWith('\\') && offset + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++offset] ?? ''}`;
    for (const command of commands(line)) {
      const argv = words(command);
      const args = cliArguments(argv);
      if (args !== undefined) for (const message of checkCli(cli, args)) problems.push({ offset: first, message });
      const script = npmScript(argv);
      if (script !== undefined && args === undefined && !(script in scripts)) problems.push({ offset: first, message: `package.json has no script "${script}"` });
      const file = nodeScript(argv);
      if (file !== undefined && !existsSync(join(root, file))) problems.push({ offset: first, message: `${file} does not exist (paths are from the package root)` });
    }
  }
  return problems;
}

/** Counts the imagewire command lines of a block (for the report of what was checked). */
export function countCliLines(code: string): number {
  return code.split('\n').flatMap((line) => commands(line)).filter((command) => cliArguments(words(command)) !== undefined).length;
}
