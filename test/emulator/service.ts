// The emulated service's task handling: authentication and sessions, ping, imageInference (sync
// and async), getResponse, imageUpload and refusals, over the sockets the server hands it. Knows
// nothing of HTTP; owns every session, task record and timer it starts.
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { Connection, type ConnectionHost } from './connection.js';
import { codes, dataFrame, errorsFrame, taskError, type ErrorItem } from './error-items.js';
import type { EmulatorFaults } from './faults.js';
import { sniffImage, type ImageBytes, type ImageStore } from './images.js';
import { runInference } from './inference.js';
import type { ResolvedOptions, UnknownFieldMode } from './options.js';
import { seededRandom, type SeededRandom } from './random.js';
import type { Session, OutFrame } from './sessions.js';
import { SessionStore } from './sessions.js';
import type { Stats } from './stats.js';
import { TaskRecord, TaskRecords, type ResultItem } from './task-records.js';
import { checkFrame, checkTask, type CheckedTask, type InferenceRequest } from './wire-rules.js';

/** What the service needs from the emulator around it. */
export interface ServiceDeps {
  readonly faults: EmulatorFaults;
  readonly stats: Stats;
  readonly images: ImageStore;
  readonly bytes: ImageBytes;
  /** Base of image URLs. */
  readonly httpUrl: string;
}

/** The service's state between two restarts. */
export class Service implements ConnectionHost {
  readonly stats: Stats;
  readonly #options: ResolvedOptions;
  readonly #deps: ServiceDeps;
  readonly #sessions: SessionStore;
  readonly #tasks: TaskRecords;
  readonly #connections = new Set<Connection>();
  readonly #random: SeededRandom;
  /** Session UUIDs an earlier instance knew, by key (for the echoOldSessionWithEmptyState fault). */
  readonly #forgotten: ReadonlyMap<string, string>;
  #unknownFields: UnknownFieldMode;

  constructor(options: ResolvedOptions, deps: ServiceDeps, forgotten: ReadonlyMap<string, string> = new Map()) {
    this.#options = options;
    this.#deps = deps;
    this.stats = deps.stats;
    this.#sessions = new SessionStore(deps.stats);
    this.#tasks = new TaskRecords(options.retentionMs);
    this.#random = seededRandom(options.seed);
    this.#forgotten = forgotten;
    this.#unknownFields = options.unknownFields;
  }

  get idleTimeoutMs(): number {
    return this.#options.idleTimeoutMs;
  }

  get resumeWindowMs(): number {
    return this.#options.resumeWindowMs;
  }

  get holdingLastFrame(): boolean {
    return this.#deps.faults.holdingLastFrame;
  }

  get socketsOpen(): number {
    return this.#connections.size;
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  setUnknownFields(mode: UnknownFieldMode): void {
    this.#unknownFields = mode;
  }

  countResultFrame(): boolean {
    return this.#deps.faults.countResultFrame();
  }

  /** Takes a new socket (after the closeOnConnect fault had its say). */
  accept(ws: WebSocket): void {
    this.#connections.add(new Connection(ws, this));
  }

  closed(connection: Connection): void {
    this.#connections.delete(connection);
  }

  // ---- drops ----

  dropFromFault(connection: Connection): void {
    this.#drop([connection]);
  }

  dropAll(): void {
    this.#drop([...this.#connections]);
  }

  /** One drop event: its effects apply to every socket it hits; the others write what they held. */
  #drop(hit: readonly Connection[]): void {
    const effects = this.#deps.faults.takeDropEffects();
    for (const connection of hit) connection.drop(effects);
    this.releaseHeld();
  }

  /** Writes the frames held back by a fault that is no longer armed. */
  releaseHeld(): void {
    if (this.#deps.faults.holdingLastFrame) return;
    for (const connection of this.#connections) connection.releaseHeld();
  }

  /** Cuts every socket and forgets every session and task; returns the session UUIDs it knew (by UUID, their key). */
  shutdown(): Map<string, string> {
    for (const connection of [...this.#connections]) connection.terminate();
    this.#connections.clear();
    this.#tasks.clear();
    const known = new Map(this.#forgotten);
    for (const session of this.#sessions.clear()) known.set(session.uuid, session.apiKey);
    return known;
  }

  // ---- frames ----

  /** An errors frame, with `"data": []` beside per the option (a seeded coin by default). */
  #errors(items: readonly ErrorItem[]): string {
    const mode = this.#options.emptyDataWithErrors;
    return errorsFrame(items, mode === 'always' || (mode === 'seeded' && this.#random.next() < 0.5));
  }

  handleFrame(connection: Connection, text: string | undefined): void {
    const frame = checkFrame(text);
    if (!frame.ok) {
      connection.writeControl(this.#errors([frame.error]));
      return;
    }
    this.#runTasks(connection, frame.tasks, 0);
  }

  #runTasks(connection: Connection, tasks: readonly unknown[], from: number): void {
    for (let index = from; index < tasks.length; index++) {
      const raw = tasks[index];
      this.#countReceived(raw);
      const check = checkTask(raw, { unknownFields: this.#unknownFields, models: this.#options.models });
      if (!check.ok) {
        if (check.error.taskType === 'authentication') connection.authFailed(() => connection.writeControl(this.#errors([check.error])));
        else connection.writeControl(this.#errors([check.error]));
        continue;
      }
      const task = check.task;
      if (task.taskType === 'authentication') {
        connection.beginAuthentication(this.#options.authDelayMs, () => this.#authenticate(connection, task.apiKey, task.connectionSessionUUID));
        // Tasks pipelined behind the authentication run once it is answered.
        connection.afterAuthentication(() => this.#runTasks(connection, tasks, index + 1));
        return;
      }
      this.#run(connection, task);
    }
  }

  #countReceived(raw: unknown): void {
    if (typeof raw !== 'object' || raw === null) return;
    const { taskType, taskUUID } = raw as { taskType?: unknown; taskUUID?: unknown };
    if (typeof taskUUID === 'string' && taskType !== 'getResponse') this.stats.taskReceived(taskUUID);
  }

  #authenticate(connection: Connection, apiKey: string, resume: string | undefined): void {
    const accepted = this.#options.apiKeys;
    if (accepted !== undefined && !accepted.has(apiKey)) {
      const refusal = taskError(codes.invalidApiKey, 'Invalid API key. Get one at https://my.runware.ai/signup', { taskType: 'authentication' }, { parameter: 'apiKey', type: 'string' });
      connection.authFailed(() => connection.writeControl(this.#errors([refusal])));
      return;
    }
    let session: Session | undefined;
    let replay: OutFrame[] = [];
    if (resume !== undefined) {
      session = this.#sessions.find(resume, apiKey);
      if (session !== undefined) {
        replay = session.attach(connection);
        this.stats.add('sessionsResumed');
      } else if (this.#deps.faults.echoesOldSessions && this.#forgotten.get(resume) === apiKey) {
        session = this.#sessions.create(apiKey, connection, resume);
      }
    }
    session ??= this.#sessions.create(apiKey, connection);
    const attached = session;
    connection.authSucceeded(apiKey, attached, () => {
      connection.writeControl(dataFrame([{ taskType: 'authentication', connectionSessionUUID: attached.uuid }]));
      for (const frame of replay) {
        this.stats.add('resultsReplayed', frame.items);
        // Through the session: if a fault cuts the socket mid-replay, the rest is buffered again.
        attached.deliver(frame);
      }
    });
  }

  #run(connection: Connection, task: Exclude<CheckedTask, { taskType: 'authentication' }>): void {
    if (task.taskType === 'ping') {
      if (!this.#deps.faults.pongsWithheld) connection.writeControl(dataFrame([{ taskType: 'ping', pong: true }]));
      return;
    }
    const auth = connection.authenticated;
    if (auth === undefined) {
      connection.writeControl(
        this.#errors([taskError(codes.missingApiKey, 'Authenticate first: the first message on a connection must be an authentication task.', task, { parameter: 'apiKey', type: 'string' })]),
      );
      return;
    }
    switch (task.taskType) {
      case 'getResponse':
        return this.#getResponse(connection, auth.apiKey, task.taskUUID);
      case 'imageInference':
        if (this.#conflict(connection, auth.apiKey, task)) return;
        return this.#imageInference(connection, auth.apiKey, auth.session, task.taskUUID, task.request);
      case 'imageUpload':
        if (this.#conflict(connection, auth.apiKey, task)) return;
        return this.#imageUpload(connection, auth.apiKey, auth.session, task.taskUUID, task.image);
    }
  }

  /** Refuses a taskUUID a known task of the key already has; true when it did. */
  #conflict(connection: Connection, apiKey: string, task: { readonly taskType: string; readonly taskUUID: string }): boolean {
    if (this.#tasks.get(apiKey, task.taskUUID) === undefined) return false;
    connection.writeControl(this.#errors([taskError(codes.conflictTaskUUID, `A task with taskUUID ${task.taskUUID} already exists.`, task, { parameter: 'taskUUID', type: 'string' })]));
    return true;
  }

  #getResponse(connection: Connection, apiKey: string, taskUUID: string): void {
    const record = this.#tasks.get(apiKey, taskUUID);
    if (record === undefined) {
      const code = this.#options.notFoundCode;
      connection.writeControl(this.#errors([taskError(code, `No task with taskUUID ${taskUUID} was found, or it failed.`, { taskType: 'getResponse', taskUUID }, { parameter: 'taskUUID', type: 'string' })]));
      return;
    }
    connection.writeControl(dataFrame(record.responseItems()));
  }

  #imageInference(connection: Connection, apiKey: string, session: Session, taskUUID: string, request: InferenceRequest): void {
    const failure = this.#deps.faults.takeTaskFailure();
    this.stats.inferenceAccepted(taskUUID);
    const sync = request.deliveryMethod === 'sync';
    let stop = (): void => undefined;
    const record = new TaskRecord('imageInference', taskUUID, () => stop());
    this.#tasks.add(apiKey, record);
    if (!sync) connection.writeControl(dataFrame([{ taskType: 'imageInference', taskUUID }]));
    const deps = {
      bytes: this.#deps.bytes,
      images: this.#deps.images,
      httpUrl: this.#deps.httpUrl,
      imageDelayMs: this.#options.imageDelayMs,
      perFrame: this.#options.resultsPerFrame === 'batched' ? this.#options.batchSize : 1,
      costPerImage: this.#options.costPerImage,
      random: this.#random,
    };
    stop = runInference(taskUUID, request, failure, deps, {
      results: (items) => {
        for (const item of items) record.addItem(item);
        if (sync) session.deliver({ text: dataFrame(items), items: items.length });
      },
      failed: (error) => {
        this.#tasks.end(apiKey, record, error);
        if (sync) session.deliver({ text: this.#errors([taskError(error.code, error.message, { taskType: 'imageInference', taskUUID })]), items: 0 });
      },
      done: () => this.#tasks.end(apiKey, record),
    });
  }

  #imageUpload(connection: Connection, apiKey: string, session: Session, taskUUID: string, image: string): void {
    const bytes = /^https?:\/\//i.test(image) ? this.#deps.bytes.PNG : Buffer.from(image.replace(/^data:[^,]*,/, ''), 'base64');
    const kind = sniffImage(bytes);
    if (kind === undefined) {
      const refusal = taskError('invalidImage', 'Invalid value for image parameter: the data is not a PNG, JPG, WEBP, GIF or BMP image.', { taskType: 'imageUpload', taskUUID }, { parameter: 'image', type: 'string' });
      connection.writeControl(this.#errors([refusal]));
      return;
    }
    const imageUUID = randomUUID();
    this.#deps.images.put(imageUUID, { bytes, ...kind });
    const item: ResultItem = { taskType: 'imageUpload', taskUUID, imageUUID, imageURL: `${this.#deps.httpUrl}/images/${imageUUID}.${kind.ext}` };
    const record = new TaskRecord('imageUpload', taskUUID, () => undefined);
    record.addItem(item);
    this.#tasks.add(apiKey, record);
    this.#tasks.end(apiKey, record);
    session.deliver({ text: dataFrame([item]), items: 1 });
  }
}
