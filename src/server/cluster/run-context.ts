// One task as a cluster worker runs it: a local task record (its AbortController), and the runner's
// registry, image store and webhook sender backed by Redis. Writes run one at a time in the order the
// runner made them, so finals reach the task record in index order and an image is stored before
// the final that names it; previews are published best effort to the node holding the session.
import type { Redis } from 'ioredis';
import { parseImageRef, type ImageUploadTask } from '../../protocol/index.js';
import type { ImageFormat } from '../../engine/index.js';
import type { ImageStore, StoredImage } from '../images/store.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { WebhookSender } from '../outbound/webhooks.js';
import type { ServerFrame } from '../core/server-frame.js';
import { newTaskRecord, TaskAbort, type StoredResult, type TaskRecord } from '../core/task-registry.js';
import type { FinalCounter, TaskOutputs } from '../core/task-runner.js';
import { finalKeyOf, type UsageStore, type UsageToken } from '../usage/usage-store.js';
import type { RedisImageStore } from './image-store.js';
import type { ClusterKeys } from './keys.js';
import { encodeStoredResult, resultIndexOf, storedResultOf } from './result-codec.js';
import { previewMessage } from './session-log.js';
import type { EmitResult, TaskStore } from './task-store.js';
import type { JobTask } from './task-job.js';

/** What every task run of a worker shares. */
export interface RunContextDeps {
  readonly tasks: TaskStore;
  readonly images: RedisImageStore;
  readonly keys: ClusterKeys;
  /** A command connection: preview lookups and their PUBLISH. */
  readonly redis: Redis;
  readonly webhooks: Pick<WebhookSender, 'send'>;
  readonly logger: Logger;
  /** Where each recorded final's cost is counted, once per final (see {@link TaskRun.finals}). */
  readonly usage: Pick<UsageStore, 'recordFinal'>;
}

/** A new local record of a running task (the runner reads and updates it; Redis keeps the real one). */
function localRecord(owner: string, taskUUID: string, taskType: string, async: boolean): TaskRecord {
  return newTaskRecord(owner, taskUUID, taskType, async, undefined);
}

/** The input images a task names by imageUUID (the worker reads them from Redis before it runs). */
export function imageUuidsOf(task: JobTask): string[] {
  const refs = task.taskType === 'imageUpload' ? [(task as ImageUploadTask).image] : [task.seedImage, task.maskImage, ...task.controlNet.map((entry) => entry.guideImage), ...task.ipAdapters.map((entry) => entry.guideImage)];
  const uuids = new Set<string>();
  for (const ref of refs) {
    if (ref === undefined) continue;
    const parsed = parseImageRef(ref);
    if (parsed.kind === 'uuid') uuids.add(parsed.uuid.toLowerCase());
  }
  return [...uuids];
}

/**
 * One running task on a worker. `registry`, `images` and `webhooks` are the runner's deps for it.
 * A Redis failure in a write stops the run (its signal aborts) and is rethrown by {@link settled},
 * so the job is retried rather than the task failed; a re-run's finals for recorded indexes are
 * dropped by TaskStore.emitFinal, and so are their webhooks.
 */
export class TaskRun {
  readonly record: TaskRecord;
  readonly #deps: RunContextDeps;
  readonly #inputs = new Map<string, StoredImage>();
  #chain: Promise<void> = Promise.resolve();
  #failure: { readonly error: unknown } | undefined;
  /** The newest preview not yet published, and whether a write is queued to publish it. */
  #preview: ServerFrame | undefined;
  #previewQueued = false;
  /**
   * An image put sent but not answered yet: the final naming it goes out right behind it (one
   * round trip instead of two; the final's script records nothing without the image), and every
   * other write waits for it first.
   */
  #putInFlight: { readonly uuid: string; readonly done: Promise<unknown> } | undefined;
  /** Whether the last final written was new (its webhook goes out) or a re-run's duplicate. */
  #lastFinalNew = false;
  /** Whether the last final is in the task record (new, or a re-run's duplicate of one that is): its cost counts. */
  #lastFinalKept = false;
  /** Set when the worker stops the run to leave (the job goes back to the queue). */
  shutdown = false;

  constructor(deps: RunContextDeps, owner: string, taskUUID: string, taskType: string, async: boolean, token?: UsageToken) {
    this.#deps = deps;
    this.record = localRecord(owner, taskUUID, taskType, async);
    this.record.token = token;
  }

  /** The Redis failure that stopped the run, if one did. */
  get failure(): { readonly error: unknown } | undefined {
    return this.#failure;
  }

  /** Reads the input images the task names by imageUUID, so the runner finds them at once. */
  async loadInputs(task: JobTask): Promise<void> {
    for (const uuid of imageUuidsOf(task)) {
      const image = await this.#deps.images.get(uuid);
      if (image !== undefined) this.#inputs.set(uuid, image);
    }
  }

  /** Ends the run here: cancelled (or ended elsewhere), or the worker leaves (`shutdown`). */
  abort(reason: 'cancelled' | 'shutdown', cause?: unknown): void {
    if (reason === 'shutdown') this.shutdown = true;
    if (this.record.state !== 'running') return;
    this.record.state = 'cancelled';
    const abort = cause ?? new TaskAbort(reason);
    const onCancel = this.record.onCancel;
    this.record.onCancel = undefined;
    onCancel?.(abort instanceof TaskAbort ? abort : new TaskAbort(reason));
    this.record.controller.abort(abort);
  }

  /** Waits for every write queued so far; rethrows the Redis failure that stopped the run. */
  async settled(): Promise<void> {
    this.#queue(async () => undefined);
    await this.#chain;
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /** Waits for the put in flight, if any (its failure is the run's). */
  async #putAnswered(): Promise<void> {
    const put = this.#putInFlight;
    this.#putInFlight = undefined;
    if (put !== undefined) await put.done;
  }

  /** Queues a write after the others (after the put in flight unless `behindPut`); after a failure nothing more is written. */
  #queue(write: () => Promise<void>, behindPut = false): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#failure !== undefined) return;
      try {
        if (!behindPut) await this.#putAnswered();
        await write();
      } catch (error) {
        this.#failure = { error };
        this.abort('cancelled', error);
      }
    });
  }

  readonly registry: TaskOutputs = {
    emit: (record, frame) => {
      if (record.state === 'running') this.#queue(() => this.#writeFinal(frame), true);
    },
    emitPreview: (record, frame) => {
      if (record.state !== 'running') return;
      // Latest wins: one queued publish at a time, so previews never pile up behind a slow Redis.
      this.#preview = frame;
      if (this.#previewQueued) return;
      this.#previewQueued = true;
      this.#queue(() => this.#publishPreview());
    },
  };

  /**
   * A final's cost is counted right after the final is written, in the usage store, once per final
   * (its marker is keyed by owner, taskUUID and index): a re-run's duplicate counts when the run that
   * wrote the final stopped before counting it (a crash between the two), and not otherwise; a
   * failed count fails the run like any write, so the job runs again and counts it then.
   */
  readonly finals: FinalCounter = {
    count: (record, index, cost) => {
      this.#queue(async () => {
        if (this.#lastFinalKept) await this.#deps.usage.recordFinal(record.owner, record.token, finalKeyOf(record.taskUUID, index), cost);
      });
    },
  };

  readonly images: Pick<ImageStore, 'put' | 'get'> = {
    put: (uuid: string, bytes: Uint8Array, format: ImageFormat, owner: string) => {
      this.#queue(async () => {
        const done = this.#deps.images.put(uuid, bytes, format, owner);
        // Awaited by the next write; until then a rejection must not count as unhandled.
        done.catch(() => undefined);
        this.#putInFlight = { uuid: uuid.toLowerCase(), done };
      });
    },
    get: (uuid: string) => this.#inputs.get(uuid.toLowerCase()),
  };

  readonly webhooks: Pick<WebhookSender, 'send'> = {
    // The runner sends a final's webhook right after the final: it goes out only if that final was new.
    send: (url, json, owner) => {
      this.#queue(async () => {
        if (this.#lastFinalNew) this.#deps.webhooks.send(url, json, owner);
      });
    },
  };

  /** Records a final, sent right behind the put of the image it names (see {@link #putInFlight}). */
  async #writeFinal(frame: ServerFrame): Promise<void> {
    const result = storedResultOf(frame);
    const imageUUID = typeof result.item.imageUUID === 'string' ? result.item.imageUUID.toLowerCase() : undefined;
    if (this.#putInFlight !== undefined && this.#putInFlight.uuid !== imageUUID) await this.#putAnswered();
    const put = this.#putInFlight;
    this.#putInFlight = undefined;
    let outcome = this.#emitFinal(frame, result, put?.uuid);
    if (put !== undefined) {
      // The put's failure is the run's, whatever the final's script answered (it recorded nothing without the image).
      outcome.catch(() => undefined);
      await put.done;
      // The put landed after the final's script ran (a script the restarted Redis had to load again): once more, now in order.
      if ((await outcome).kind === 'noImage') outcome = this.#emitFinal(frame, result, undefined);
    }
    const kind = (await outcome).kind;
    this.#lastFinalNew = kind !== 'duplicate' && kind !== 'notRunning';
    this.#lastFinalKept = kind !== 'notRunning' && kind !== 'noImage';
    if (this.#lastFinalNew) return;
    // A re-run's copy (or one after the end): its image, stored just before, is nobody's.
    if (imageUUID !== undefined) await this.#deps.images.delete(imageUUID);
    if (kind === 'notRunning') this.abort('cancelled');
  }

  #emitFinal(frame: ServerFrame, result: StoredResult, requiredImage: string | undefined): Promise<EmitResult> {
    const { owner, taskUUID } = this.record;
    return this.#deps.tasks.emitFinal(owner, taskUUID, resultIndexOf(result), encodeStoredResult(result), frame, requiredImage);
  }

  /** Publishes the newest preview to the node the task's session is attached to, if any; failures are dropped. */
  async #publishPreview(): Promise<void> {
    const frame = this.#preview;
    this.#preview = undefined;
    this.#previewQueued = false;
    if (frame === undefined || this.record.state !== 'running') return;
    const { redis, keys, logger } = this.#deps;
    try {
      const session = await redis.hget(keys.task(this.record.owner, this.record.taskUUID), 'tg');
      if (session === null || session === '') return;
      const node = await redis.hget(keys.session(session), 'node');
      if (node === null || node === '') return;
      const message = previewMessage(session, frame);
      if (message !== undefined) await redis.publish(keys.nodeChannel(node), message);
    } catch (error) {
      logger.debug('preview not published', { task: this.record.taskUUID, error: errorMessage(error) });
    }
  }
}
