// Where a task's outputs go, whatever the transport: a WebSocket session, an HTTP request's
// collector, or an image job's callbacks. The router and registry deliver through it.
import type { ServerFrame } from './server-frame.js';

/** Where a task's outputs go: a session (WebSocket) or an HTTP request's collector. */
export interface OutputTarget {
  /** Task-output frames: finals, task errors, async acknowledgements, cancel answers. Held when not deliverable. */
  deliver(frame: ServerFrame): void;
  /** Previews: written if possible, otherwise dropped. */
  deliverPreview(frame: ServerFrame): void;
  /** True while a peer is attached and can receive frames. */
  readonly reachable: boolean;
  /** True when `getResponse` may move a running task's outputs here (sessions, not HTTP requests). */
  readonly reattachable: boolean;
  /** Forgets frames of a task that were not delivered yet (its outputs moved to another target). */
  forgetTask(taskUUID: string): void;
}
