-- Checks, without writing, that hashes a message read are unchanged (after prelude.lua and reads.lua): for a
-- cluster commit whose reads lie in several slots, the slots it does not write are checked before its first
-- part commits. Answers 'ok' or {'conflict', key, field}.

return checkReads() or 'ok'
