// Server-sent events on an HTTP response: `event:` and `data:` lines per event, headers written at
// the first event so that an error found before any output can still go out as a plain JSON answer.
import type { ServerResponse } from 'node:http';
import { stringifyJson } from '../../protocol/index.js';

/** Writes server-sent events to one response. */
export class SseWriter {
  readonly #res: ServerResponse;
  #started = false;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  /** True once the status line and headers went out: errors must then travel as events. */
  get started(): boolean {
    return this.#started;
  }

  /** True when the peer is gone and nothing more can be written. */
  get closed(): boolean {
    return this.#res.destroyed || this.#res.writableEnded;
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // Proxies such as nginx would otherwise buffer the stream and hold partial images back.
      'x-accel-buffering': 'no',
    });
  }

  /** Writes one event; `data` is JSON on a single line (JSON escapes newlines in strings). */
  event(name: string, data: unknown): void {
    this.#start();
    if (this.closed) return;
    this.#res.write(`event: ${name}\ndata: ${stringifyJson(data)}\n\n`);
  }

  end(): void {
    this.#start();
    if (!this.closed) this.#res.end();
  }
}
