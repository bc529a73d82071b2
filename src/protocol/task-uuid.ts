// UUID v4 creation and checks for taskUUIDs, session UUIDs and image UUIDs.
import { v4 as uuidv4 } from 'uuid';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ANY_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A new random UUID v4, as every task's taskUUID must be. */
export function newTaskUUID(): string {
  return uuidv4();
}

/** True for a UUID v4 string in its canonical 8-4-4-4-12 form (any letter case). */
export function isUuidV4(value: unknown): value is string {
  return typeof value === 'string' && value.length === 36 && UUID_V4.test(value);
}

/** True for any RFC 4122 shaped UUID string (session UUIDs are not required to be v4). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && value.length === 36 && ANY_UUID.test(value);
}
