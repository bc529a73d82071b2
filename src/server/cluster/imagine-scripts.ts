// The Lua of the imagine store: unpublished images bounded per key and in total (the oldest of the
// key over its share goes) and expiring; publishing refused past its bounds; published ones kept.
import { LUA_COMMON } from './lua-common.js';

/**
 * Imagine helpers, after {@link LUA_COMMON}. Image HASH `im:{I}`: o owner, name, w, h, c created
 * (ms), p published '0'/'1', x published until (ms, '' for ever), d bytes. Store `id` counts
 * unpublished images by owner (okey(O,'drafts') by creation, `id:exp`), store `ip` published ones
 * (okey(O,'pub'), `ip:exp` when they have a lifetime). ARGV[2] draft lifetime ms, ARGV[3] published
 * lifetime ms (0: for ever, and then the published accounts have no TTL either).
 */
export const LUA_IMAGINE = `${LUA_COMMON}
local DRAFT_LIFE = tonumber(ARGV[2])
local PUB_LIFE = tonumber(ARGV[3])
local function mkey(i) return P .. 'im:{' .. i .. '}' end
local function m_forget(o, i, published)
  if published then
    if redis.call('ZREM', okey(o, 'pub'), i) == 1 then account('ip', o, -1) end
    redis.call('ZREM', P .. 'ip:exp', o .. ' ' .. i)
  else
    if redis.call('ZREM', okey(o, 'drafts'), i) == 1 then account('id', o, -1) end
    redis.call('ZREM', P .. 'id:exp', o .. ' ' .. i)
  end
end
local function m_remove(o, i)
  local p = redis.call('HGET', mkey(i), 'p')
  redis.call('DEL', mkey(i))
  m_forget(o, i, p == '1')
end
local function m_expire(now, limit)
  local n = 0
  for _, st in ipairs({ 'id', 'ip' }) do
    local gone = redis.call('ZRANGEBYSCORE', P .. st .. ':exp', '-inf', now, 'LIMIT', 0, limit)
    for _, m in ipairs(gone) do
      local o, i = split2(m)
      local left = redis.call('PTTL', mkey(i))
      if left > 0 then redis.call('ZADD', P .. st .. ':exp', now + left, m) else m_forget(o, i, st == 'ip') end
    end
    n = n + #gone
  end
  return n
end
local function m_keep(o)
  keep_keys(DRAFT_LIFE, { okey(o, 'drafts') })
  keep_store('id', DRAFT_LIFE)
  keep_keys(PUB_LIFE, { okey(o, 'pub') })
  keep_store('ip', PUB_LIFE)
end
`;

/**
 * add: KEYS image; ARGV[4] id, [5] owner, [6] name, [7] width, [8] height, [9] created ms, [10]
 * bytes, [11] unpublished per key, [12] unpublished in total. An older unpublished one may go. -> evicted
 */
export const IMAGINE_ADD = `${LUA_IMAGINE}
local i, o = ARGV[4], ARGV[5]
local now = now_ms()
m_expire(now, 64)
redis.call('HSET', KEYS[1], 'o', o, 'name', ARGV[6], 'w', ARGV[7], 'h', ARGV[8], 'c', ARGV[9], 'p', '0', 'x', '', 'd', ARGV[10])
redis.call('PEXPIRE', KEYS[1], DRAFT_LIFE)
if redis.call('ZADD', okey(o, 'drafts'), order_after(okey(o, 'drafts'), now), i) == 1 then account('id', o, 1) end
redis.call('ZADD', P .. 'id:exp', now + DRAFT_LIFE, o .. ' ' .. i)
local evicted = 0
for _ = 1, 100000 do
  local r = room('id', 'drafts', o, 0, tonumber(ARGV[11]), tonumber(ARGV[12]))
  if r.kind ~= 'evict' or (r.member == i and r.owner == o) then break end
  m_remove(r.owner, r.member)
  evicted = evicted + 1
end
m_keep(o)
return evicted
`;

/**
 * publish: KEYS image; ARGV[4] id, [5] owner, [6] published in total, [7] per key.
 * -> {'ok', until ms or ''} | {'notFound'} | {'full'} | {'shareFull'}
 */
export const IMAGINE_PUBLISH = `${LUA_IMAGINE}
local i, o = ARGV[4], ARGV[5]
local now = now_ms()
m_expire(now, 64)
local h = redis.call('HMGET', KEYS[1], 'o', 'p', 'x')
if h[1] ~= o then return { 'notFound' } end
if h[2] == '1' then return { 'ok', h[3] } end
if total('ip') >= tonumber(ARGV[6]) then return { 'full' } end
if amount('ip', o) >= tonumber(ARGV[7]) then return { 'shareFull' } end
local until_ = ''
if PUB_LIFE > 0 then until_ = now + PUB_LIFE end
redis.call('HSET', KEYS[1], 'p', '1', 'x', until_)
if PUB_LIFE > 0 then redis.call('PEXPIRE', KEYS[1], PUB_LIFE) else redis.call('PERSIST', KEYS[1]) end
m_forget(o, i, false)
if redis.call('ZADD', okey(o, 'pub'), order_after(okey(o, 'pub'), now), i) == 1 then account('ip', o, 1) end
if PUB_LIFE > 0 then redis.call('ZADD', P .. 'ip:exp', now + PUB_LIFE, o .. ' ' .. i) end
m_keep(o)
return { 'ok', tostring(until_) }
`;

/** delete: KEYS image; ARGV[4] id, [5] owner. Only the owner's. -> 1 | 0 */
export const IMAGINE_DELETE = `${LUA_IMAGINE}
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[5] then return 0 end
m_remove(ARGV[5], ARGV[4])
return 1
`;

/** sweep: ARGV[4] limit. -> entries of expired images forgotten */
export const IMAGINE_SWEEP = `${LUA_IMAGINE}
return m_expire(now_ms(), tonumber(ARGV[4]))
`;
