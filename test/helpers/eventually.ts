// Waits for a condition the test cannot be told about (e.g. server-side counters after a socket
// closes), checking it on every timer tick until a deadline. Not a sleep: it returns as soon as
// the condition holds, and fails with the last value when it never does.

export async function eventually<T>(read: () => T, accept: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
