-- A clean stop: deletes consumer ARGV[2] from group ARGV[1] on stream KEYS[1] when it holds no pending
-- entry (those it holds stay for a live replica to take over). Answers whether it did.
local stream, group, me = KEYS[1], ARGV[1], ARGV[2]
if #redis.call('XPENDING', stream, group, '-', '+', 1, me) > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', stream, group, me)
return 1
