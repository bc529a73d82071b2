// Lua shared by every store's scripts: the prefix, Redis's clock, key names, and the per-owner
// accounting of a bounded store with the eviction rule of owner-shares.ts, in Redis.

/**
 * Prepended to every script. Every script gets the key prefix as ARGV[1].
 *
 * A bounded store `st` keeps, under the prefix: `st:amt` (ZSET owner -> what it holds), `st:tot`
 * (what all hold) and, when its entries expire, `st:exp` (ZSET "owner member" -> expiry ms), the
 * index that lets a script forget the accounting of entries whose keys Redis expired. Counters only
 * ever change by what a ZADD or ZREM of the entry reports, so cleaning twice is harmless.
 */
export const LUA_COMMON = `
local P = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function okey(o, name) return P .. 'k:{' .. o .. '}:' .. name end
-- The score that puts a member last in an ordered ZSET: now, or just after the newest member when
-- that one is as new (many adds in one millisecond would otherwise order by member, not by age).
local function order_after(key, now)
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2]
  if newest and tonumber(newest) >= now then return tonumber(newest) + 1 / 1024 end
  return now
end
local function split2(m)
  local at = string.find(m, ' ', 1, true)
  return string.sub(m, 1, at - 1), string.sub(m, at + 1)
end
local function amount(st, o) return tonumber(redis.call('ZSCORE', P .. st .. ':amt', o) or '0') end
local function total(st) return tonumber(redis.call('GET', P .. st .. ':tot') or '0') end
local function account(st, o, delta)
  if delta == 0 then return end
  local left = tonumber(redis.call('ZINCRBY', P .. st .. ':amt', delta, o))
  if left <= 0 then redis.call('ZREM', P .. st .. ':amt', o) end
  redis.call('INCRBY', P .. st .. ':tot', delta)
end
-- Which owner must give something up before o adds 'adding' (owner-shares.ts room()): o itself past
-- its share; past the total, the largest holder when it holds more than o, else o. nil: it fits.
local function pressed(st, o, adding, per_owner, max_total)
  local holds = amount(st, o)
  if holds + adding > per_owner then return o, 'perOwner' end
  if total(st) + adding > max_total then
    local top = redis.call('ZREVRANGE', P .. st .. ':amt', 0, 0, 'WITHSCORES')
    if top[1] and tonumber(top[2]) > holds then return top[1], 'total' end
    return o, 'total'
  end
  return nil, nil
end
-- The entry to evict before o adds: the oldest of the chosen owner's ordered ZSET okey(owner, list),
-- or o's own when the chosen owner has none. {kind='fits'} | {kind='evict', owner, member, bound} | {kind='full', owner, bound}
local function room(st, list, o, adding, per_owner, max_total)
  local from, bound = pressed(st, o, adding, per_owner, max_total)
  if from == nil then return { kind = 'fits' } end
  local oldest = redis.call('ZRANGE', okey(from, list), 0, 0)[1]
  if oldest == nil and from ~= o then
    from = o
    oldest = redis.call('ZRANGE', okey(o, list), 0, 0)[1]
  end
  if oldest == nil then return { kind = 'full', owner = from, bound = bound } end
  return { kind = 'evict', owner = from, member = oldest, bound = bound }
end
-- Gives a store's shared accounting keys a TTL (or none when ms is 0).
local function keep_store(st, ms)
  for _, suffix in ipairs({ ':amt', ':tot', ':exp' }) do
    if ms > 0 then redis.call('PEXPIRE', P .. st .. suffix, ms) else redis.call('PERSIST', P .. st .. suffix) end
  end
end
local function keep_keys(ms, keys)
  for _, key in ipairs(keys) do
    if ms > 0 then redis.call('PEXPIRE', key, ms) else redis.call('PERSIST', key) end
  end
end
`;
