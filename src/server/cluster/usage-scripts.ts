// The Lua scripts of the usage store: admission of a token's task (budget, rate window on Redis's
// clock, counters) and a final counted once, each one atomic step on keys of one owner's hash tag.

/** Redis's clock in ms: every node's tasks count in the same minute. */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: owner hash, token hash. ARGV: tasksPerMinute (0: none), budget ('' none), token hash expire-at
 * ms, token expiry ms, owner hash TTL ms. Returns {'ok'}, {'budget', spent} or {'rate', retry-after ms}.
 */
export const USAGE_ADMIT = `${NOW}
local limit = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local spent = tonumber(redis.call('HGET', KEYS[2], 'cost') or '0')
if budget and spent >= budget then return {'budget', tostring(spent)} end
local minute = now - (now % 60000)
local n = 0
if tonumber(redis.call('HGET', KEYS[2], 'w') or '0') == minute then n = tonumber(redis.call('HGET', KEYS[2], 'wn') or '0') end
if limit > 0 and n >= limit then return {'rate', tostring(minute + 60000 - now)} end
redis.call('HSET', KEYS[2], 'w', string.format('%d', minute), 'wn', n + 1, 'x', ARGV[4])
if budget then redis.call('HSET', KEYS[2], 'b', ARGV[2]) end
redis.call('HINCRBY', KEYS[2], 'tasks', 1)
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
redis.call('HINCRBY', KEYS[1], 'tasks', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {'ok'}
`;

/**
 * KEYS: the final's marker, owner hash, token hash (the owner hash again when there is no token).
 * ARGV: cost, marker TTL ms, owner hash TTL ms, '1' with a token, token hash expire-at ms, token
 * expiry ms. Returns 1 when counted, 0 when the marker says it was counted before.
 */
export const USAGE_FINAL = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[2], 'images', 1)
redis.call('HINCRBYFLOAT', KEYS[2], 'cost', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if ARGV[4] == '1' then
  redis.call('HINCRBY', KEYS[3], 'images', 1)
  redis.call('HINCRBYFLOAT', KEYS[3], 'cost', ARGV[1])
  redis.call('HSETNX', KEYS[3], 'x', ARGV[6])
  redis.call('PEXPIREAT', KEYS[3], ARGV[5])
end
return 1
`;

/**
 * KEYS: an index ZSET (member -> the expiry of what it names). ARGV: member, its expiry ms, most
 * members kept. Forgets members past their expiry and, past the bound, those expiring soonest; the
 * index itself expires with its longest-lived member.
 */
export const USAGE_INDEX = `${NOW}
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1) end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
if last then redis.call('PEXPIREAT', KEYS[1], string.format('%d', tonumber(last))) end
return 1
`;
