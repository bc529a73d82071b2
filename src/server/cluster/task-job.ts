// One accepted task as the queue carries it from the node that accepted it to a worker: the task's
// parameters and references (never image bytes), and the exact text form of its bigint seed.
import type { UsageToken } from '../usage/usage-store.js';
import { isRecord, type ImageUploadTask, type ResolvedImageInference } from '../../protocol/index.js';

/** One accepted task as BullMQ carries it to a worker: parameters and references, never image bytes. */
export interface TaskJob {
  /** Key digest. */
  readonly owner: string;
  readonly taskUUID: string;
  readonly taskType: 'imageInference' | 'imageUpload';
  /** The validated, normalized task as JSON; bigint seeds as decimal strings (see encodeTaskJob). */
  readonly task: string;
  /** The transport that accepted it can deliver previews (WebSocket). */
  readonly previews: boolean;
  /** Finals go to the image store (false only for the imagine endpoint). */
  readonly storeFinals: boolean;
  /** Base of image URLs of the node that accepted it (any node serves /images/*). */
  readonly publicUrl: string;
  /** The session token the task came with (`<id> <expiry ms>`), whose usage its finals count in; absent for an API key. */
  readonly token?: string;
}

/** A task a job can carry: a normalized imageInference or an imageUpload. */
export type JobTask = ResolvedImageInference | ImageUploadTask;

/** What {@link encodeTaskJob} takes and {@link decodeTaskJob} gives back: a TaskJob with its task as an object. */
export interface TaskJobFields {
  readonly owner: string;
  readonly task: JobTask;
  readonly previews: boolean;
  readonly storeFinals: boolean;
  readonly publicUrl: string;
  readonly token?: UsageToken | undefined;
}

/** A job's data that is not a TaskJob this version writes (a foreign writer, or a version skew). */
export class TaskJobError extends Error {
  readonly code = 'taskJobInvalid';

  constructor(message: string) {
    super(message);
    this.name = 'TaskJobError';
  }
}

/** The BullMQ job id of a task: unique per owner and taskUUID, so a task is enqueued at most once. */
export function jobIdOf(owner: string, taskUUID: string): string {
  return `${taskUUID}.${owner.slice(0, 16)}`;
}

/**
 * The job of a task. Its seed, when a bigint, is written as a decimal string: JSON numbers above
 * 2^53 - 1 would come back rounded, and a string tells a bigint seed from a number seed exactly.
 */
export function encodeTaskJob(fields: TaskJobFields): TaskJob {
  const { task } = fields;
  const seeded = task.taskType === 'imageInference' && typeof task.seed === 'bigint' ? { ...task, seed: task.seed.toString() } : task;
  return {
    owner: fields.owner,
    taskUUID: task.taskUUID,
    taskType: task.taskType,
    task: JSON.stringify(seeded),
    previews: fields.previews,
    storeFinals: fields.storeFinals,
    publicUrl: fields.publicUrl,
    ...(fields.token === undefined ? {} : { token: `${fields.token.id} ${fields.token.expiresAtMs}` }),
  };
}

/** Reads job data written by {@link encodeTaskJob}; TaskJobError for anything else. */
export function decodeTaskJob(data: unknown): TaskJobFields {
  if (!isRecord(data)) throw new TaskJobError('the job data is not an object');
  const { owner, taskUUID, taskType, task, previews, storeFinals, publicUrl } = data;
  if (typeof owner !== 'string' || owner === '') throw new TaskJobError('the job has no owner');
  if (typeof taskUUID !== 'string' || taskUUID === '') throw new TaskJobError('the job has no taskUUID');
  if (taskType !== 'imageInference' && taskType !== 'imageUpload') throw new TaskJobError('the job has an unknown taskType');
  if (typeof task !== 'string' || typeof previews !== 'boolean' || typeof storeFinals !== 'boolean' || typeof publicUrl !== 'string') throw new TaskJobError('the job misses fields');
  let parsed: unknown;
  try {
    parsed = JSON.parse(task);
  } catch {
    throw new TaskJobError('the job task is not JSON');
  }
  if (!isRecord(parsed) || parsed.taskType !== taskType || parsed.taskUUID !== taskUUID) throw new TaskJobError('the job task does not match its taskType and taskUUID');
  if (typeof parsed.seed === 'string') {
    if (!/^-?\d{1,40}$/.test(parsed.seed)) throw new TaskJobError('the job task has a seed that is not an integer');
    parsed.seed = BigInt(parsed.seed);
  }
  return { owner, task: parsed as unknown as JobTask, previews, storeFinals, publicUrl, token: tokenOf(data.token) };
}

/** The token of a job (`<id> <expiry ms>`); anything else is none (its finals then count for the owner only). */
function tokenOf(value: unknown): UsageToken | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^([0-9a-f]{24}) ([0-9]{1,16})$/.exec(value);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { id: match[1], expiresAtMs: Number(match[2]) };
}
