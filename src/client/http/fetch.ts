// The fetch the HTTP clients use: the one given, or the platform's, always called unbound, since
// browsers' fetch refuses a `this` other than the global ("Illegal invocation").

/** `given` or `globalThis.fetch`, wrapped so that calling it as a method is safe. */
export function resolveFetch(given: typeof fetch | undefined): typeof fetch {
  const fetchImpl = given ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('imagewire: no fetch implementation; pass the fetch option');
  return (input, init) => fetchImpl(input, init);
}
