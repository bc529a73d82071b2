// The Lua of the image store: images by imageUUID with a global byte bound and per-key shares,
// least recently used first, as src/server/images/store.ts evicts them.
import { LUA_COMMON } from './lua-common.js';

/**
 * Image helpers, after {@link LUA_COMMON}. Image HASH `img:{U}`: f format, o owner, d bytes.
 * Store `ib` counts bytes by owner; okey(O,'img') orders the owner's images by last use (ms),
 * okey(O,'imgsz') has their sizes (the accounting outlives a key Redis expired), `ib:exp` indexes
 * expiries. ARGV[2] of every image script is the retention ms.
 */
export const LUA_IMAGE = `${LUA_COMMON}
local RETENTION = tonumber(ARGV[2])
local function ikey(u) return P .. 'img:{' .. u .. '}' end
local function i_forget(o, u)
  local size = tonumber(redis.call('HGET', okey(o, 'imgsz'), u) or '0')
  redis.call('HDEL', okey(o, 'imgsz'), u)
  if redis.call('ZREM', okey(o, 'img'), u) == 1 then account('ib', o, -size) end
  redis.call('ZREM', P .. 'ib:exp', o .. ' ' .. u)
end
local function i_delete(u)
  local o = redis.call('HGET', ikey(u), 'o')
  redis.call('DEL', ikey(u))
  if o then i_forget(o, u) end
end
local function i_expire(now, limit)
  local gone = redis.call('ZRANGEBYSCORE', P .. 'ib:exp', '-inf', now, 'LIMIT', 0, limit)
  for _, m in ipairs(gone) do
    local o, u = split2(m)
    local left = redis.call('PTTL', ikey(u))
    if left > 0 then redis.call('ZADD', P .. 'ib:exp', now + left, m) else i_forget(o, u) end
  end
  return #gone
end
local function i_keep(o)
  keep_keys(RETENTION, { okey(o, 'img'), okey(o, 'imgsz') })
  keep_store('ib', RETENTION)
end
`;

/**
 * put: KEYS image; ARGV[3] uuid, [4] owner, [5] format, [6] bytes, [7] bytes per key, [8] bytes in
 * total. Replaces an image of the same UUID; older images go to make room, never the new one.
 * -> images evicted
 */
export const IMAGE_PUT = `${LUA_IMAGE}
local u, o = ARGV[3], ARGV[4]
local now = now_ms()
i_expire(now, 64)
i_delete(u)
local size = #ARGV[6]
redis.call('HSET', KEYS[1], 'f', ARGV[5], 'o', o, 'd', ARGV[6])
redis.call('PEXPIRE', KEYS[1], RETENTION)
redis.call('ZADD', okey(o, 'img'), order_after(okey(o, 'img'), now), u)
redis.call('HSET', okey(o, 'imgsz'), u, size)
account('ib', o, size)
redis.call('ZADD', P .. 'ib:exp', now + RETENTION, o .. ' ' .. u)
local evicted = 0
for _ = 1, 100000 do
  local r = room('ib', 'img', o, 0, tonumber(ARGV[7]), tonumber(ARGV[8]))
  if r.kind ~= 'evict' or (r.member == u and r.owner == o) then break end
  i_delete(r.member)
  evicted = evicted + 1
end
i_keep(o)
return evicted
`;

/** touch: KEYS image; ARGV[3] uuid. Marks it used now and renews its retention. -> 1 | 0 */
export const IMAGE_TOUCH = `${LUA_IMAGE}
local o = redis.call('HGET', KEYS[1], 'o')
if not o then return 0 end
local now = now_ms()
redis.call('PEXPIRE', KEYS[1], RETENTION)
redis.call('ZADD', okey(o, 'img'), 'XX', order_after(okey(o, 'img'), now), ARGV[3])
redis.call('ZADD', P .. 'ib:exp', 'XX', now + RETENTION, o .. ' ' .. ARGV[3])
i_keep(o)
return 1
`;

/** delete: KEYS image; ARGV[3] uuid. -> 1 | 0 */
export const IMAGE_DELETE = `${LUA_IMAGE}
local existed = redis.call('EXISTS', KEYS[1])
i_delete(ARGV[3])
return existed
`;

/** sweep: ARGV[3] limit. -> expired images forgotten */
export const IMAGE_SWEEP = `${LUA_IMAGE}
return i_expire(now_ms(), tonumber(ARGV[3]))
`;
