#ifndef GOAL_SIGNALS_REPLY_ARENA_H
#define GOAL_SIGNALS_REPLY_ARENA_H

#include <stddef.h>

/// Memory for the replies hiredis reads on one connection.
///
/// hiredis's reader allocates each reply object and each string of a reply on its own, and frees them one by
/// one; a stream read of fifty 20-field entries is some four thousand allocations and as many frees. Attached
/// to a connection's reader, an arena gives the reader the same `redisReply` objects carved out of a few large
/// blocks, and frees them all at once when the connection's caller has decoded them.
typedef struct gs_reply_arena gs_reply_arena;

/// A new, empty arena; NULL when memory is short.
gs_reply_arena *gs_reply_arena_create(void);

/// Frees the arena and every reply in it.
void gs_reply_arena_free(gs_reply_arena *arena);

/// Makes the reader of `context` (a `redisContext *`) build its replies in `arena`. Replies read afterwards
/// must not be passed to `freeReplyObject`: they live until the next `gs_reply_arena_reset`.
void gs_reply_arena_attach(gs_reply_arena *arena, void *context);

/// Releases every reply built in the arena at once, keeping its first block for the next ones.
void gs_reply_arena_reset(gs_reply_arena *arena);

/// Bytes the arena holds in blocks now (for tests).
size_t gs_reply_arena_capacity(const gs_reply_arena *arena);

#endif
