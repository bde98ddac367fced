-- The same admission in Redis, for comparison only (the gateway does not use Redis): a sliding minute window
-- (sorted set of accepted messages), the day's count and the open stream slots of one user, checked and recorded
-- atomically in one script; the release is a second command (SREM), as it would be.
-- KEYS: window zset, day counter, streams set. ARGV: per minute, per day, max streams.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000000)
local inWindow = redis.call('ZCARD', KEYS[1])
local today = tonumber(redis.call('GET', KEYS[2]) or '0')
local open = redis.call('SCARD', KEYS[3])
if inWindow >= tonumber(ARGV[1]) or today >= tonumber(ARGV[2]) or open >= tonumber(ARGV[3]) then
    return 0
end
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], now, seq)
redis.call('SADD', KEYS[3], seq)
return seq
