// The Lua of the session log: one script per operation that must be atomic, on a session HASH
// `s:{S}` and its STREAM `s:{S}:out`, with the per-key and total bounds of held sessions and bytes.
import { LUA_COMMON } from './lua-common.js';

/** Largest frame JSON (bytes) a wake-up carries (see parseNodeMessage): pub/sub stays small. */
export const maxWakeFrameBytes = 16 * 1024;

/**
 * Session helpers, after {@link LUA_COMMON}. ARGV[2..7] of every session script (and of the task
 * scripts that append to sessions) are the bounds: resume window ms, sessions per key, sessions in
 * total, held bytes per session, per key, in total.
 *
 * Session HASH fields: o owner, seq last sequence number given, ack/bin flags ('0'/'1'), by who set
 * them ('a' authentication, 'e' enableExtensions), node attached ('' none), gen attachment
 * generation, held bytes held, app bytes ever appended, fr bytes ever removed (so held = app - fr),
 * ak highest sequence number removed, sent highest sequence number handed to a socket, ep epoch,
 * q0 the sequence number before the first one the client numbers ('' until ack is first on; a
 * session without the field predates it and numbers from its first frame, q0 = 0).
 * Stream entry fields: h frame JSON, b image bytes, c app after this entry, n its size, t its task.
 *
 * Sequence numbers (entry IDs) are positions in the log. Under ack the client numbers frames from 1
 * (as the memory store does): client seq n is position n + q0, and frames at or before q0 (held
 * before ack was first on) go out without seq.
 *
 * Accounts: store `sc` (sessions, by owner; evictable = okey(O,'detached') ordered by detach time,
 * all sessions in okey(O,'sessions') by expiry, expiry index `sc:exp`), store `sb` (held bytes by
 * owner; okey(O,'held') HASH session -> bytes).
 */
export const LUA_SESSION = `${LUA_COMMON}
local WINDOW = tonumber(ARGV[2])
local MAX_S_KEY = tonumber(ARGV[3])
local MAX_S = tonumber(ARGV[4])
local MAX_B_SESSION = tonumber(ARGV[5])
local MAX_B_KEY = tonumber(ARGV[6])
local MAX_B = tonumber(ARGV[7])
local WAKE_FRAME_MAX = ${maxWakeFrameBytes}
local function skey(s) return P .. 's:{' .. s .. '}' end
local function outkey(s) return P .. 's:{' .. s .. '}:out' end
local function field(fields, name)
  for i = 1, #fields, 2 do if fields[i] == name then return fields[i + 1] end end
  return nil
end
local function seq_of(id) return tonumber(string.sub(id, 1, string.find(id, '-', 1, true) - 1)) end
-- Ack is on for session key k: the client numbers frames appended from now on, from 1.
local function s_number_from(k)
  if redis.call('HGET', k, 'q0') == '' then redis.call('HSET', k, 'q0', redis.call('HGET', k, 'seq')) end
end
-- The position of the client's seq n in session key k (0 when the client numbered nothing).
local function s_position(k, n)
  local q0 = redis.call('HGET', k, 'q0')
  if q0 == '' then return 0 end
  return tonumber(n) + tonumber(q0 or '0')
end
-- Forgets the accounting of session s of owner o (its keys are gone or going).
local function s_forget(o, s)
  local held = tonumber(redis.call('HGET', okey(o, 'held'), s) or '0')
  redis.call('HDEL', okey(o, 'held'), s)
  account('sb', o, -held)
  if redis.call('ZREM', okey(o, 'sessions'), s) == 1 then account('sc', o, -1) end
  redis.call('ZREM', okey(o, 'detached'), s)
  redis.call('ZREM', P .. 'sc:exp', o .. ' ' .. s)
end
-- Drops a session; its node is told (drop <S> <reason>) when reason is given and a socket is attached.
local function s_discard(s, o, reason)
  local node = redis.call('HGET', skey(s), 'node')
  s_forget(o, s)
  redis.call('DEL', skey(s), outkey(s))
  if reason and node and node ~= '' then redis.call('PUBLISH', P .. 'n:' .. node, 'drop ' .. s .. ' ' .. reason) end
end
-- Forgets the accounting of sessions Redis expired (at most 'limit' of them).
local function s_expire(now, limit)
  local gone = redis.call('ZRANGEBYSCORE', P .. 'sc:exp', '-inf', now, 'LIMIT', 0, limit)
  for _, m in ipairs(gone) do
    local o, s = split2(m)
    local left = redis.call('PTTL', skey(s))
    if left > 0 then
      redis.call('ZADD', P .. 'sc:exp', now + left, m)
      redis.call('ZADD', okey(o, 'sessions'), 'XX', now + left, s)
    else
      s_forget(o, s)
      redis.call('DEL', outkey(s))
    end
  end
  return #gone
end
-- Renews the resume window of session s and of the accounts it counts in.
local function s_keep(s, o, now)
  redis.call('PEXPIRE', skey(s), WINDOW)
  redis.call('PEXPIRE', outkey(s), WINDOW)
  redis.call('ZADD', okey(o, 'sessions'), 'XX', now + WINDOW, s)
  redis.call('ZADD', P .. 'sc:exp', 'XX', now + WINDOW, o .. ' ' .. s)
  keep_keys(WINDOW, { okey(o, 'sessions'), okey(o, 'detached'), okey(o, 'held') })
  keep_store('sc', WINDOW)
  keep_store('sb', WINDOW)
end
-- Forgets the frames of s with seq <= through (a prefix: the only way frames leave a stream).
-- Returns the bytes freed.
local function s_trim(s, o, through)
  local key = skey(s)
  local ak = tonumber(redis.call('HGET', key, 'ak') or '0')
  if through <= ak then return 0 end
  redis.call('HSET', key, 'ak', through)
  if tonumber(redis.call('HGET', key, 'sent') or '0') < through then redis.call('HSET', key, 'sent', through) end
  local last = redis.call('XREVRANGE', outkey(s), through .. '-0', '-', 'COUNT', 1)[1]
  if last == nil then return 0 end
  redis.call('XTRIM', outkey(s), 'MINID', (through + 1) .. '-0')
  local c = tonumber(field(last[2], 'c'))
  local freed = c - tonumber(redis.call('HGET', key, 'fr') or '0')
  if freed <= 0 then return 0 end
  redis.call('HSET', key, 'fr', c)
  redis.call('HINCRBY', key, 'held', -freed)
  redis.call('HINCRBY', okey(o, 'held'), s, -freed)
  account('sb', o, -freed)
  return freed
end
-- Forgets frames written to a socket and not acknowledged (under ack), as the memory store's trimWritten.
local function s_trim_written(s, o)
  local h = redis.call('HMGET', skey(s), 'ack', 'sent')
  if h[1] ~= '1' then return 0 end
  return s_trim(s, o, tonumber(h[2] or '0'))
end
-- Frees some held bytes of owner o (session-store.ts #shrink): its oldest session without a socket
-- that holds bytes goes, else the written frames of its attached sessions. False when nothing may go.
local function s_shrink(o)
  local held = okey(o, 'held')
  for _, d in ipairs(redis.call('ZRANGE', okey(o, 'detached'), 0, -1)) do
    if tonumber(redis.call('HGET', held, d) or '0') > 0 then
      s_discard(d, o, 'heldBytes')
      return true
    end
  end
  local freed = false
  for _, s in ipairs(redis.call('ZRANGE', okey(o, 'sessions'), 0, -1)) do
    local node = redis.call('HGET', skey(s), 'node')
    if node and node ~= '' and s_trim_written(s, o) > 0 then freed = true end
  end
  return freed
end
-- The per-key and total byte bounds after o's sessions grew (session-store.ts checkBytes).
local function s_check_bytes(o)
  for _ = 1, 100000 do
    local from = pressed('sb', o, 0, MAX_B_KEY, MAX_B)
    if from == nil then return end
    if not s_shrink(from) then
      if from == o or not s_shrink(o) then return end
    end
  end
end
-- The wake-up of an append: under ack a small frame without image bytes travels with it
-- ('f S seq clientSeq frame'), so the node writes it without reading it back; else the bare session.
local function s_wake(key, s, seq, h, b)
  if b == nil and #h <= WAKE_FRAME_MAX then
    local f = redis.call('HMGET', key, 'ack', 'q0')
    local q0 = f[2]
    if q0 == false then q0 = '0' end
    if f[1] == '1' and q0 ~= '' and seq > tonumber(q0) then
      return 'f ' .. s .. ' ' .. seq .. ' ' .. (seq - tonumber(q0)) .. ' ' .. h
    end
  end
  return s
end
-- Appends a frame to session s of owner o. Returns status ('appended', 'dropped', 'notFound') and seq.
local function s_append(s, o, now, h, b, size, task)
  local key = skey(s)
  if redis.call('HGET', key, 'o') ~= o then return 'notFound', 0 end
  local seq = redis.call('HINCRBY', key, 'seq', 1)
  local app = redis.call('HINCRBY', key, 'app', size)
  if b then
    redis.call('XADD', outkey(s), seq .. '-0', 'h', h, 'b', b, 'c', app, 'n', size, 't', task)
  else
    redis.call('XADD', outkey(s), seq .. '-0', 'h', h, 'c', app, 'n', size, 't', task)
  end
  local held = redis.call('HINCRBY', key, 'held', size)
  redis.call('HINCRBY', okey(o, 'held'), s, size)
  account('sb', o, size)
  if held > MAX_B_SESSION then
    s_trim_written(s, o)
    if tonumber(redis.call('HGET', key, 'held')) > MAX_B_SESSION then s_discard(s, o, 'heldBytes') end
  end
  s_check_bytes(o)
  if redis.call('EXISTS', key) == 0 then return 'dropped', seq end
  s_keep(s, o, now)
  local node = redis.call('HGET', key, 'node')
  if node and node ~= '' then redis.call('PUBLISH', P .. 'n:' .. node, s_wake(key, s, seq, h, b)) end
  return 'appended', seq
end
`;

/** create: KEYS session, out; ARGV[8] owner, [9] epoch. -> {'created', dropped} | {'exists'} | {'full', bound} */
export const SESSION_CREATE = `${LUA_SESSION}
local o = ARGV[8]
local s = string.sub(KEYS[1], #P + 4, -2)
local now = now_ms()
s_expire(now, 64)
if redis.call('EXISTS', KEYS[1]) == 1 then return { 'exists' } end
local dropped = 0
for _ = 1, 100000 do
  local r = room('sc', 'detached', o, 1, MAX_S_KEY, MAX_S)
  if r.kind == 'fits' then break end
  if r.kind == 'full' then return { 'full', r.bound } end
  s_discard(r.member, r.owner, 'sessionLimit')
  dropped = dropped + 1
end
redis.call('HSET', KEYS[1], 'o', o, 'seq', 0, 'ack', '0', 'bin', '0', 'by', 'a', 'node', '', 'gen', 0, 'held', 0, 'app', 0, 'fr', 0, 'ak', 0, 'sent', 0, 'ep', ARGV[9], 'q0', '')
redis.call('ZADD', okey(o, 'sessions'), now + WINDOW, s)
redis.call('ZADD', okey(o, 'detached'), order_after(okey(o, 'detached'), now), s)
redis.call('ZADD', P .. 'sc:exp', now + WINDOW, o .. ' ' .. s)
account('sc', o, 1)
s_keep(s, o, now)
return { 'created', dropped }
`;

/**
 * attach: KEYS session, out; ARGV[8] owner, [9] node, [10] ack ('' none; a client seq), [11] asked
 * flags ('' none, else ack..bin as '0'/'1'). -> {0} not found | {1, 0} another owner's |
 * {1, 1, previousNode, gen, ack, bin, lastSeq, acknowledged, epoch, q0}. Tells the previous
 * node, when another (evict S gen). It also answers a resume's lookup, so a resume costs one round trip.
 */
export const SESSION_ATTACH = `${LUA_SESSION}
local s = string.sub(KEYS[1], #P + 4, -2)
local now = now_ms()
if redis.call('EXISTS', KEYS[1]) == 0 then return { 0 } end
local h = redis.call('HMGET', KEYS[1], 'o', 'node', 'ack', 'bin', 'by', 'sent', 'ep')
local o = h[1]
if o ~= ARGV[8] then return { 1, 0 } end
local previous = h[2]
local gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('HSET', KEYS[1], 'node', ARGV[9])
redis.call('ZREM', okey(o, 'detached'), s)
local ack, bin, by = h[3], h[4], h[5]
if ARGV[11] ~= '' then
  ack, bin, by = string.sub(ARGV[11], 1, 1), string.sub(ARGV[11], 2, 2), 'a'
elseif by ~= 'e' then
  ack, bin = '0', '0'
end
redis.call('HSET', KEYS[1], 'ack', ack, 'bin', bin, 'by', by)
if ack == '1' then s_number_from(KEYS[1]) end
if ARGV[10] ~= '' and ack == '1' then
  s_trim(s, o, math.min(s_position(KEYS[1], ARGV[10]), tonumber(h[6])))
end
-- Frames written to an earlier socket and never acknowledged are replayed: nothing is written yet.
local after = redis.call('HMGET', KEYS[1], 'ak', 'seq', 'q0')
redis.call('HSET', KEYS[1], 'sent', after[1])
s_keep(s, o, now)
-- A take-over on the same node is that node's own business (it closes the earlier socket itself).
if previous ~= '' and previous ~= ARGV[9] then redis.call('PUBLISH', P .. 'n:' .. previous, 'evict ' .. s .. ' ' .. gen) end
return { 1, 1, previous, gen, ack, bin, tonumber(after[2]), tonumber(after[1]), h[7], after[3] or '0' }
`;

/** append: KEYS session, out; ARGV[8] owner, [9] frame JSON, [10] size, [11] task, [12] has image '0'/'1', [13] image. -> {status, seq} */
export const SESSION_APPEND = `${LUA_SESSION}
local s = string.sub(KEYS[1], #P + 4, -2)
local b = nil
if ARGV[12] == '1' then b = ARGV[13] end
local now = now_ms()
s_expire(now, 16)
local status, seq = s_append(s, ARGV[8], now, ARGV[9], b, tonumber(ARGV[10]), ARGV[11])
return { status, seq }
`;

/**
 * take (sessions without ack): KEYS session, out; ARGV[8] node, [9] gen, [10] count. The oldest
 * held frames, removed in the same step, so a frame handed to a socket is never handed out again.
 * -> entries as XRANGE gives them; {} when the node no longer holds the session.
 */
export const SESSION_TAKE = `${LUA_SESSION}
local s = string.sub(KEYS[1], #P + 4, -2)
local h = redis.call('HMGET', KEYS[1], 'o', 'node', 'gen')
if h[1] == false or h[2] ~= ARGV[8] or h[3] ~= ARGV[9] then return {} end
local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', tonumber(ARGV[10]))
if #entries > 0 then s_trim(s, h[1], seq_of(entries[#entries][1])) end
return entries
`;

/**
 * delivered: KEYS session, out; ARGV[8] node, [9] gen, [10] seq: frames up to seq were written to
 * the node's socket. Frames held from before ack was on went out without seq, so nothing will
 * acknowledge them: written, they are forgotten (as the memory store does). -> 1 | 0
 */
export const SESSION_DELIVERED = `${LUA_SESSION}
local h = redis.call('HMGET', KEYS[1], 'node', 'gen', 'sent', 'seq', 'o', 'q0')
if h[1] ~= ARGV[8] or h[2] ~= ARGV[9] then return 0 end
local seq = math.min(tonumber(ARGV[10]), tonumber(h[4]))
if seq > tonumber(h[3]) then redis.call('HSET', KEYS[1], 'sent', seq) end
if h[6] and h[6] ~= '' then s_trim(string.sub(KEYS[1], #P + 4, -2), h[5], math.min(seq, tonumber(h[6]))) end
return 1
`;

/** acknowledge: KEYS session, out; ARGV[8] the client's seq. Clamped to what was written. -> bytes freed, -1 when not found */
export const SESSION_ACKNOWLEDGE = `${LUA_SESSION}
local s = string.sub(KEYS[1], #P + 4, -2)
local h = redis.call('HMGET', KEYS[1], 'o', 'sent')
if h[1] == false then return -1 end
local freed = s_trim(s, h[1], math.min(s_position(KEYS[1], ARGV[8]), tonumber(h[2])))
s_keep(s, h[1], now_ms())
return freed
`;

/**
 * enable (an enableExtensions task): KEYS session, out; ARGV[8] node, [9] gen, [10] flags ack..bin,
 * [11] ack ('' none; a client seq). The ack first, then the flags (set by 'e'); turning ack off
 * forgets the frames written and not acknowledged. -> 1 | 0 (not this node's)
 */
export const SESSION_ENABLE = `${LUA_SESSION}
local s = string.sub(KEYS[1], #P + 4, -2)
local h = redis.call('HMGET', KEYS[1], 'o', 'node', 'gen', 'sent')
if h[1] == false or h[2] ~= ARGV[8] or h[3] ~= ARGV[9] then return 0 end
if ARGV[11] ~= '' then s_trim(s, h[1], math.min(s_position(KEYS[1], ARGV[11]), tonumber(h[4]))) end
local ack = string.sub(ARGV[10], 1, 1)
redis.call('HSET', KEYS[1], 'ack', ack, 'bin', string.sub(ARGV[10], 2, 2), 'by', 'e')
if ack == '1' then s_number_from(KEYS[1]) end
if ack ~= '1' then s_trim(s, h[1], tonumber(redis.call('HGET', KEYS[1], 'sent'))) end
s_keep(s, h[1], now_ms())
return 1
`;

/** detach: KEYS session, out; ARGV[8] node, [9] gen. Only the attachment `gen` of `node` may. -> 1 | 0 */
export const SESSION_DETACH = `${LUA_SESSION}
local s = string.sub(KEYS[1], #P + 4, -2)
local h = redis.call('HMGET', KEYS[1], 'o', 'node', 'gen')
if h[1] == false or h[2] ~= ARGV[8] or h[3] ~= ARGV[9] then return 0 end
local now = now_ms()
redis.call('HSET', KEYS[1], 'node', '')
redis.call('ZADD', okey(h[1], 'detached'), order_after(okey(h[1], 'detached'), now), s)
s_keep(s, h[1], now)
s_check_bytes(h[1])
return 1
`;

/** refresh: KEYS session, out; ARGV[8] node, [9] gen. Renews the window of a session the node still holds. -> 1 | 0 */
export const SESSION_REFRESH = `${LUA_SESSION}
local s = string.sub(KEYS[1], #P + 4, -2)
local h = redis.call('HMGET', KEYS[1], 'o', 'node', 'gen')
if h[1] == false or h[2] ~= ARGV[8] or h[3] ~= ARGV[9] then return 0 end
s_keep(s, h[1], now_ms())
return 1
`;

/** discard: KEYS session, out. -> 1 | 0 */
export const SESSION_DISCARD = `${LUA_SESSION}
local s = string.sub(KEYS[1], #P + 4, -2)
local o = redis.call('HGET', KEYS[1], 'o')
if o == false then return 0 end
s_discard(s, o, nil)
return 1
`;

/** sweep: ARGV[8] limit. Forgets the accounting of expired sessions. -> how many */
export const SESSION_SWEEP = `${LUA_SESSION}
return s_expire(now_ms(), tonumber(ARGV[8]))
`;

/**
 * give back (sessions without ack): KEYS session, out; ARGV[8] owner, [9] count, then per frame
 * (oldest first) seq, h, has image '0'/'1', image, size, task. Frames taken and never written go
 * back in front of the log, under their own sequence numbers, so they keep their order. Only when
 * nothing was taken after them: else they would follow newer frames, and are lost in flight
 * instead, as the base protocol allows. The stream is rebuilt (a rare path: a socket cut with
 * frames in hand). -> 1 given back | 0 not
 */
export const SESSION_GIVE_BACK = `${LUA_SESSION}
local s = string.sub(KEYS[1], #P + 4, -2)
local o = ARGV[8]
local n = tonumber(ARGV[9])
local h = redis.call('HMGET', KEYS[1], 'o', 'ak', 'fr', 'node', 'sent')
local first = tonumber(ARGV[10])
local last = tonumber(ARGV[10 + (n - 1) * 6])
if h[1] ~= o or n == 0 or tonumber(h[2]) ~= last then return 0 end
local total = 0
for i = 0, n - 1 do total = total + tonumber(ARGV[14 + i * 6]) end
local rest = redis.call('XRANGE', KEYS[2], '-', '+')
redis.call('DEL', KEYS[2])
local fr = tonumber(h[3]) - total
local c = fr
for i = 0, n - 1 do
  local a = 10 + i * 6
  local size = tonumber(ARGV[a + 4])
  c = c + size
  if ARGV[a + 2] == '1' then
    redis.call('XADD', KEYS[2], ARGV[a] .. '-0', 'h', ARGV[a + 1], 'b', ARGV[a + 3], 'c', c, 'n', size, 't', ARGV[a + 5])
  else
    redis.call('XADD', KEYS[2], ARGV[a] .. '-0', 'h', ARGV[a + 1], 'c', c, 'n', size, 't', ARGV[a + 5])
  end
end
for _, entry in ipairs(rest) do redis.call('XADD', KEYS[2], entry[1], unpack(entry[2])) end
redis.call('HSET', KEYS[1], 'fr', fr, 'ak', first - 1, 'sent', math.min(tonumber(h[5]), first - 1))
local held = redis.call('HINCRBY', KEYS[1], 'held', total)
redis.call('HINCRBY', okey(o, 'held'), s, total)
account('sb', o, total)
if held > MAX_B_SESSION then s_discard(s, o, 'heldBytes') end
s_check_bytes(o)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
s_keep(s, o, now_ms())
if h[4] and h[4] ~= '' then redis.call('PUBLISH', P .. 'n:' .. h[4], s) end
return 1
`;
