// Reads server-sent events from a fetch response body (a byte stream), browser-safe: `event`,
// `data` (multi-line joined) and blank-line dispatch as the EventSource standard defines them.

/** One dispatched event. */
export interface ServerSentEvent {
  /** The `event:` field; `message` when none was given. */
  readonly event: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
}

/**
 * Yields the events of `body` as they arrive. Leaving the loop early cancels the body, which closes
 * the connection (and lets the server stop its work).
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  // Text after the last line end, in the pieces it came in: an image event is one data line of
  // hundreds of KiB, and joining it again at every chunk would make reading it quadratic.
  let partial: string[] = [];
  let event = '';
  let data: string[] = [];
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      const carriedCr = partial.at(-1)?.endsWith('\r') === true;
      if (!done && !carriedCr && !/[\r\n]/.test(text)) {
        partial.push(text);
        continue;
      }
      partial.push(text);
      const buffer = partial.join('');
      // Lines end with \n, \r\n or \r; a trailing \r may be half of a \r\n still on its way,
      // unless the stream has ended.
      let match: RegExpExecArray | null;
      const lineEnd = done ? /\r\n|\n|\r/g : /\r\n|\n|\r(?!$)/g;
      let start = 0;
      while ((match = lineEnd.exec(buffer)) !== null) {
        const line = buffer.slice(start, match.index);
        start = match.index + match[0].length;
        if (line === '') {
          if (data.length > 0) yield { event: event === '' ? 'message' : event, data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = text;
        else if (field === 'data') data.push(text);
      }
      partial = start === buffer.length ? [] : [buffer.slice(start)];
      if (done) break;
    }
    finished = true;
    // An event not closed by a blank line at the end of the stream is dropped, as the standard says.
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
