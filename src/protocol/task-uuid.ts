// UUID v4 creation and checks for taskUUIDs, session UUIDs and image UUIDs. New UUIDs come from the
// platform's crypto (Node, browsers, workers), so browser apps ship no UUID library.

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ANY_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A UUID v4 from random bytes, for pages that are not a secure context (plain http off localhost),
 * where browsers leave out crypto.randomUUID but keep crypto.getRandomValues. Each digit of the
 * template takes 4 random bits; the version digit (4) stays and the variant digit (8) takes 2 bits
 * (8 to b), as RFC 9562, section 5.4 sets them. Written short: every browser app ships it.
 */
function uuidFromRandomBytes(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(31));
  let i = 0;
  return '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (digit) => (+digit ^ ((bytes[i++] ?? 0) & (15 >> (+digit / 4)))).toString(16));
}

/** A new random UUID v4, as every task's taskUUID must be. */
export function newTaskUUID(): string {
  const crypto = globalThis.crypto as Partial<Crypto>;
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : uuidFromRandomBytes();
}

/** True for a UUID v4 string in its canonical 8-4-4-4-12 form (any letter case). */
export function isUuidV4(value: unknown): value is string {
  return typeof value === 'string' && value.length === 36 && UUID_V4.test(value);
}

/** True for any RFC 4122 shaped UUID string (session UUIDs are not required to be v4). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && value.length === 36 && ANY_UUID.test(value);
}
