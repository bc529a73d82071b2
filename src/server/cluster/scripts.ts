// The stores' Lua scripts registered on a connection with ioredis `defineCommand` (EVALSHA, and EVAL
// again after a Redis restart forgot them), called through typed functions instead of `any`.
import type { Redis } from 'ioredis';

/** What a script call takes: keys first, then arguments. */
export type ScriptArg = string | number | Buffer;

/** One script: how many of its arguments are keys, and its Lua. */
export interface ScriptSpec {
  readonly keys: number;
  readonly lua: string;
}

/** A registered script: `call` decodes bulk replies as UTF-8 strings, `callBuffer` keeps them as Buffers. */
export interface Script {
  call(...args: ScriptArg[]): Promise<unknown>;
  callBuffer(...args: ScriptArg[]): Promise<unknown>;
}

type Method = (...args: ScriptArg[]) => Promise<unknown>;

function method(redis: Redis, name: string): Method {
  const found = (redis as unknown as Record<string, unknown>)[name];
  if (typeof found !== 'function') throw new Error(`internal: script ${name} is not defined`);
  return (...args) => (found as Method).apply(redis, args);
}

/** Defines each script on `redis` (under `iw_<group>_<name>`) and returns its callers. */
export function defineScripts<N extends string>(redis: Redis, group: string, specs: Readonly<Record<N, ScriptSpec>>): Readonly<Record<N, Script>> {
  const out = {} as Record<N, Script>;
  for (const name of Object.keys(specs) as N[]) {
    const spec = specs[name];
    const command = `iw_${group}_${name}`;
    redis.defineCommand(command, { numberOfKeys: spec.keys, lua: spec.lua });
    out[name] = { call: method(redis, command), callBuffer: method(redis, `${command}Buffer`) };
  }
  return out;
}

/** A reply element as a string ('' for nil). */
export function str(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number') return String(value);
  return '';
}

/** A reply element as a number (0 for nil). */
export function num(value: unknown): number {
  if (typeof value === 'number') return value;
  const text = str(value);
  return text === '' ? 0 : Number(text);
}

/** A reply as an array (a script's table). */
export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}
