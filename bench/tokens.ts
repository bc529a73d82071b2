// What a session token costs: TokenIssuer.mint and .verify beside one bare AES-256-GCM seal and
// open of the same payload with a key already derived (the least any sealed token can cost), so
// the row shows what the prefix, base64url, the one-spelling check and the payload checks add.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TokenIssuer } from '../src/server/auth/tokens.js';
import { emitRows, median, quick, ratio, rounds, spread, type Row } from './lib/report.js';

const owner = 'a'.repeat(64);
const count = quick ? 2_000 : 20_000;
const issuer = new TokenIssuer();
const token = issuer.mint(owner, 60).token;
const key = randomBytes(32);
const payload = JSON.stringify({ v: 1, o: owner, e: Math.floor(Date.now() / 1000) + 60, s: 'tasks' });

function seal(): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  return Buffer.concat([nonce, cipher.update(payload, 'utf8'), cipher.final(), cipher.getAuthTag()]);
}
const sealed = seal();

function open(): string {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]).toString('utf8');
}

/** Microseconds per call of `run` over `count` calls. */
function timeUs(run: () => unknown): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) run();
  return ((performance.now() - start) * 1000) / count;
}

/** A bench that measured a failing verify would measure the wrong thing. */
function verified(): boolean {
  const check = issuer.verify(token);
  if (!check.ok) throw new Error('the minted token did not verify');
  return check.ok;
}

// One untimed pass of each, so compiling is not measured.
timeUs(() => issuer.mint(owner, 60));
timeUs(verified);
timeUs(seal);
timeUs(open);
const r = await rounds(quick ? 1 : 5, {
  mint: () => Promise.resolve(timeUs(() => issuer.mint(owner, 60))),
  seal: () => Promise.resolve(timeUs(seal)),
  verify: () => Promise.resolve(timeUs(verified)),
  open: () => Promise.resolve(timeUs(open)),
});
const rows: Row[] = [
  { benchmark: `session tokens, µs per mint, ${token.length} chars (vs one AES-256-GCM seal of the payload)`, imagewire: spread(r.mint, 1), baseline: spread(r.seal, 1), ratio: ratio(median(r.mint) / median(r.seal)), target: '' },
  { benchmark: 'session tokens, µs per verify (vs one AES-256-GCM open of the payload)', imagewire: spread(r.verify, 1), baseline: spread(r.open, 1), ratio: ratio(median(r.verify) / median(r.open)), target: '' },
];
emitRows(rows);
