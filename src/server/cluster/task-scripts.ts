// The Lua of the task store: admission against conflicts and the per-key in-flight bound, results
// recorded once per index and appended to the target session in the same step, ends and cancels.
import { LUA_SESSION } from './session-scripts.js';

/**
 * Task helpers, after {@link LUA_SESSION} (the task scripts append to sessions, so they take the
 * session bounds as ARGV[2..7]). Task HASH fields: o owner, u taskUUID, st state, tt taskType,
 * as async '0'/'1', tg target session ('' none), pr progress, er errors JSON, ct/ft created and
 * finished (ms), r:<index> a result's JSON, j the queue job's data JSON while it runs (so a lost
 * job can be queued again), rq how many times it was. ZSET `tr` indexes running tasks across
 * owners (member '<owner> <taskUUID>', score when the orphan sweep should look at it next: the end
 * of the admission's grace, then of the lease a worker renews); it is empty, so gone, when nothing
 * runs. Store `td` counts finished records by owner: ordered
 * okey(O,'done') (taskUUID -> finish time) and the expiry index `td:exp`.
 *
 * Every task script's ARGV[8] is the owner, [9] the taskUUID (lower case).
 */
export const LUA_TASK = `${LUA_SESSION}
local O = ARGV[8]
local T = ARGV[9]
local function tkey(o, t) return P .. 't:{' .. o .. ':' .. t .. '}' end
-- Forgets finished records whose retention ended (their keys expired), at most 'limit'.
local function t_expire(now, limit)
  local gone = redis.call('ZRANGEBYSCORE', P .. 'td:exp', '-inf', now, 'LIMIT', 0, limit)
  for _, m in ipairs(gone) do
    local o, t = split2(m)
    local left = redis.call('PTTL', tkey(o, t))
    if left > 0 then
      redis.call('ZADD', P .. 'td:exp', now + left, m)
    else
      redis.call('ZREM', P .. 'td:exp', m)
      if redis.call('ZREM', okey(o, 'done'), t) == 1 then account('td', o, -1) end
    end
  end
end
-- Forgets a finished record now (made room for a newer one).
local function t_forget(o, t)
  local key = tkey(o, t)
  if redis.call('HGET', key, 'st') ~= 'running' then redis.call('DEL', key) end
  redis.call('ZREM', P .. 'td:exp', o .. ' ' .. t)
  if redis.call('ZREM', okey(o, 'done'), t) == 1 then account('td', o, -1) end
end
-- Appends a frame to the task's target when it is a sync task with one. -> status, seq
local function t_deliver(key, now, h, b, size)
  local target = redis.call('HMGET', key, 'tg', 'as')
  if target[2] == '1' or target[1] == false or target[1] == '' then return 'stored', 0 end
  return s_append(target[1], O, now, h, b, size, T)
end
`;

/**
 * admit: KEYS task, inflight; ARGV[10] taskType, [11] async, [12] target, [13] maxInFlightPerKey,
 * [14] lease ms, [15] results expected, [16] the taskUUID as the client wrote it (getResponse names
 * the task so; keys and members use it in lower case), [17] the job's data JSON ('' none), [18]
 * grace ms before the orphan sweep may find the job missing. -> {'admitted'} | {'conflict'} | {'tooMany', n}
 */
export const TASK_ADMIT = `${LUA_TASK}
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('EXISTS', KEYS[1]) == 1 then return { 'conflict' } end
local running = redis.call('ZCARD', KEYS[2])
if running >= tonumber(ARGV[13]) then return { 'tooMany', running } end
redis.call('HSET', KEYS[1], 'o', O, 'u', ARGV[16], 'st', 'running', 'tt', ARGV[10], 'as', ARGV[11], 'tg', ARGV[12], 'pr', 0, 'ct', now, 'n', ARGV[15])
if ARGV[17] ~= '' then redis.call('HSET', KEYS[1], 'j', ARGV[17]) end
local lease = tonumber(ARGV[14])
redis.call('ZADD', KEYS[2], now + lease, T)
if redis.call('PTTL', KEYS[2]) < lease then redis.call('PEXPIRE', KEYS[2], lease) end
redis.call('ZADD', P .. 'tr', now + tonumber(ARGV[18]), O .. ' ' .. T)
return { 'admitted' }
`;

/** renew: KEYS task, inflight; ARGV[10] lease ms. Extends (or restores) a running task's place in flight. -> 1 | 0 */
export const TASK_RENEW = `${LUA_TASK}
if redis.call('HGET', KEYS[1], 'st') ~= 'running' then return 0 end
local lease = tonumber(ARGV[10])
local now = now_ms()
redis.call('ZADD', KEYS[2], now + lease, T)
if redis.call('PTTL', KEYS[2]) < lease then redis.call('PEXPIRE', KEYS[2], lease) end
redis.call('ZADD', P .. 'tr', now + lease, O .. ' ' .. T)
return 1
`;

/**
 * emitFinal: KEYS task; ARGV[10] index, [11] result JSON, [12] frame JSON, [13] size, [14] has image, [15] image,
 * [16] the key of the stored image the result names ('' none): sent right behind that image's put,
 * the result is not recorded without it. The result is recorded with HSETNX, and only a new one is
 * appended to the target session, in the same script.
 * -> {'notRunning'} | {'noImage'} | {'duplicate'} | {'stored', 0} | {append status, seq}
 */
export const TASK_EMIT_FINAL = `${LUA_TASK}
if redis.call('HGET', KEYS[1], 'st') ~= 'running' then return { 'notRunning' } end
if ARGV[16] ~= '' and redis.call('EXISTS', ARGV[16]) == 0 then return { 'noImage' } end
if redis.call('HSETNX', KEYS[1], 'r:' .. ARGV[10], ARGV[11]) == 0 then return { 'duplicate' } end
local b = nil
if ARGV[14] == '1' then b = ARGV[15] end
local now = now_ms()
local status, seq = t_deliver(KEYS[1], now, ARGV[12], b, tonumber(ARGV[13]))
return { status, seq }
`;

/**
 * finish: KEYS task, inflight; ARGV[10] state, [11] errors JSON ('' none), [12] retention ms,
 * [13] finished records per key, [14] in total, [15] has frame, [16] frame JSON, [17] size,
 * [18] has image, [19] image. Only a running task ends: its frame (the task's errors) goes to the
 * target in the same step, it leaves the in-flight set, gets its retention TTL and counts in its
 * key's share of finished records (past it, the oldest go). A cancel is published to the workers.
 * -> {1, append status, seq} | {0}
 */
export const TASK_FINISH = `${LUA_TASK}
if redis.call('HGET', KEYS[1], 'st') ~= 'running' then return { 0 } end
local now = now_ms()
local status, seq = 'none', 0
if ARGV[15] == '1' then
  local b = nil
  if ARGV[18] == '1' then b = ARGV[19] end
  status, seq = t_deliver(KEYS[1], now, ARGV[16], b, tonumber(ARGV[17]))
end
local retention = tonumber(ARGV[12])
redis.call('HSET', KEYS[1], 'st', ARGV[10], 'ft', now, 'tg', '')
redis.call('HDEL', KEYS[1], 'j')
if ARGV[11] ~= '' then redis.call('HSET', KEYS[1], 'er', ARGV[11]) end
redis.call('PEXPIRE', KEYS[1], retention)
redis.call('ZREM', KEYS[2], T)
redis.call('ZREM', P .. 'tr', O .. ' ' .. T)
t_expire(now, 64)
if redis.call('ZADD', okey(O, 'done'), order_after(okey(O, 'done'), now), T) == 1 then account('td', O, 1) end
redis.call('ZADD', P .. 'td:exp', now + retention, O .. ' ' .. T)
for _ = 1, 100000 do
  local r = room('td', 'done', O, 0, tonumber(ARGV[13]), tonumber(ARGV[14]))
  if r.kind ~= 'evict' then break end
  t_forget(r.owner, r.member)
end
keep_keys(retention, { okey(O, 'done') })
keep_store('td', retention)
if ARGV[10] == 'cancelled' then redis.call('PUBLISH', P .. 'cancel', O .. ' ' .. T) end
return { 1, status, seq }
`;

/**
 * withdraw: KEYS task, inflight. Takes back an admission whose job could not be queued: a running
 * record with no result yet is deleted with its in-flight place. -> 1 | 0 (ended, or has results)
 */
export const TASK_WITHDRAW = `${LUA_TASK}
if redis.call('HGET', KEYS[1], 'st') ~= 'running' then return 0 end
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(name, 1, 2) == 'r:' then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], T)
redis.call('ZREM', P .. 'tr', O .. ' ' .. T)
return 1
`;

/**
 * orphans: no KEYS; ARGV[10] limit, [11] lease ms, [12] grace ms, [13] re-queues allowed, [14] the
 * queue's job key prefix (`<queue prefix>:<queue name>:`). Looks at up to 'limit' running tasks
 * whose time to be looked at came (nothing renewed them: no worker runs them) and decides each in
 * this one step, so any number of nodes can sweep at once without two acting on one task:
 * - its queue job exists (it waits for a worker, or one is taking it over): the sweep renews its
 *   in-flight place (so queued tasks keep counting in their key's bound) and looks again a lease later;
 * - no job, and the record holds the job's data and was re-queued fewer times than allowed:
 *   'requeue' (counted in rq; looked at again after the grace, so a re-queue that failed is retried);
 * - otherwise 'lost' (the caller ends it; looked at again after the grace if that failed).
 * Entries of records no longer running are dropped. The job key is read, never written: the
 * queue library owns it. -> { looked at, kind, owner, taskUUID, job JSON ('' for lost), ... }
 */
export const TASK_ORPHANS = `${LUA_TASK}
local now = now_ms()
local lease, grace, allowed = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
-- The in-flight place outlasts the next look by the grace: a sweep a little late never lets it lapse.
local hold = lease + grace
local due = redis.call('ZRANGEBYSCORE', P .. 'tr', '-inf', now, 'LIMIT', 0, tonumber(ARGV[10]))
local out = { #due }
for _, m in ipairs(due) do
  local o, t = split2(m)
  local key = tkey(o, t)
  local h = redis.call('HMGET', key, 'st', 'j', 'rq')
  if h[1] ~= 'running' then
    redis.call('ZREM', P .. 'tr', m)
  elseif redis.call('EXISTS', ARGV[14] .. t .. '.' .. string.sub(o, 1, 16)) == 1 then
    redis.call('ZADD', okey(o, 'inflight'), now + hold, t)
    if redis.call('PTTL', okey(o, 'inflight')) < hold then redis.call('PEXPIRE', okey(o, 'inflight'), hold) end
    redis.call('ZADD', P .. 'tr', now + lease, m)
  else
    redis.call('ZADD', P .. 'tr', now + grace, m)
    local count = tonumber(h[3] or '0')
    if h[2] and h[2] ~= '' and count < allowed then
      redis.call('HSET', key, 'rq', count + 1)
      redis.call('ZADD', okey(o, 'inflight'), now + hold, t)
      if redis.call('PTTL', okey(o, 'inflight')) < hold then redis.call('PEXPIRE', okey(o, 'inflight'), hold) end
      out[#out + 1] = 'requeue'
      out[#out + 1] = o
      out[#out + 1] = t
      out[#out + 1] = h[2]
    else
      out[#out + 1] = 'lost'
      out[#out + 1] = o
      out[#out + 1] = t
      out[#out + 1] = ''
    end
  end
end
return out
`;

/** retarget: KEYS task; ARGV[10] session. getResponse moves a running sync task's outputs. -> 1 | 0 */
export const TASK_RETARGET = `${LUA_TASK}
local h = redis.call('HMGET', KEYS[1], 'st', 'as')
if h[1] ~= 'running' or h[2] == '1' then return 0 end
redis.call('HSET', KEYS[1], 'tg', ARGV[10])
return 1
`;

/** progress: KEYS task; ARGV[10] 0..100. -> 1 | 0 */
export const TASK_PROGRESS = `${LUA_TASK}
if redis.call('HGET', KEYS[1], 'st') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'pr', ARGV[10])
return 1
`;
