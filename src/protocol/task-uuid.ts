// UUID v4 creation and checks for taskUUIDs, session UUIDs and image UUIDs. New UUIDs come from the
// platform's crypto (Node, browsers, workers), so browser apps ship no UUID library.

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ANY_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A UUID v4 from 16 random bytes with the version and variant bits set (RFC 9562, section 5.4),
 * for pages that are not a secure context (plain http off localhost), where browsers leave out
 * crypto.randomUUID but keep crypto.getRandomValues.
 */
function uuidFromRandomBytes(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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
