#include "reply_arena.h"

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One block of the arena; the blocks after the first are freed at each reset. */
typedef struct block {
    struct block *next;
    size_t size;
    size_t used;
    /* Aligned for any reply object. */
    max_align_t data[];
} block;

struct gs_reply_arena {
    block *first;
    block *current;
};

/* The first block's size: a batch's read usually fits in it, so a reset frees nothing. */
static const size_t first_block_size = 256 * 1024;
static const size_t block_size = 256 * 1024;

static block *block_create(size_t size) {
    block *b = malloc(sizeof(block) + size);
    if (b == NULL) return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

static void *arena_alloc(gs_reply_arena *arena, size_t size) {
    size_t aligned = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    block *b = arena->current;
    if (b->size - b->used < aligned) {
        block *next = block_create(aligned > block_size ? aligned : block_size);
        if (next == NULL) return NULL;
        b->next = next;
        arena->current = next;
        b = next;
    }
    void *memory = (char *)b->data + b->used;
    b->used += aligned;
    return memory;
}

/* A zeroed reply object of the task's type, linked into its parent array as hiredis's own objects are. */
static redisReply *reply_for(const redisReadTask *task, int type) {
    gs_reply_arena *arena = task->privdata;
    redisReply *reply = arena_alloc(arena, sizeof(redisReply));
    if (reply == NULL) return NULL;
    memset(reply, 0, sizeof(redisReply));
    reply->type = type;
    if (task->parent != NULL) {
        redisReply *parent = task->parent->obj;
        parent->element[task->idx] = reply;
    }
    return reply;
}

static void *create_string(const redisReadTask *task, char *text, size_t length) {
    gs_reply_arena *arena = task->privdata;
    char *copy = arena_alloc(arena, length + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, text, length);
    copy[length] = '\0';
    redisReply *reply = reply_for(task, task->type);
    if (reply == NULL) return NULL;
    reply->str = copy;
    reply->len = length;
    return reply;
}

static void *create_array(const redisReadTask *task, int elements) {
    gs_reply_arena *arena = task->privdata;
    redisReply **items = NULL;
    if (elements > 0) {
        items = arena_alloc(arena, (size_t)elements * sizeof(redisReply *));
        if (items == NULL) return NULL;
        memset(items, 0, (size_t)elements * sizeof(redisReply *));
    }
    redisReply *reply = reply_for(task, REDIS_REPLY_ARRAY);
    if (reply == NULL) return NULL;
    reply->elements = elements > 0 ? (size_t)elements : 0;
    reply->element = items;
    return reply;
}

static void *create_integer(const redisReadTask *task, long long value) {
    redisReply *reply = reply_for(task, REDIS_REPLY_INTEGER);
    if (reply == NULL) return NULL;
    reply->integer = value;
    return reply;
}

static void *create_nil(const redisReadTask *task) {
    return reply_for(task, REDIS_REPLY_NIL);
}

/* The reader frees a reply it gives up on (an error midway): the arena's next reset takes it with the rest. */
static void free_object(void *reply) {
    (void)reply;
}

static redisReplyObjectFunctions arena_functions = {
    create_string, create_array, create_integer, create_nil, free_object,
};

gs_reply_arena *gs_reply_arena_create(void) {
    gs_reply_arena *arena = malloc(sizeof(gs_reply_arena));
    if (arena == NULL) return NULL;
    arena->first = block_create(first_block_size);
    if (arena->first == NULL) {
        free(arena);
        return NULL;
    }
    arena->current = arena->first;
    return arena;
}

void gs_reply_arena_reset(gs_reply_arena *arena) {
    block *b = arena->first->next;
    while (b != NULL) {
        block *next = b->next;
        free(b);
        b = next;
    }
    arena->first->next = NULL;
    arena->first->used = 0;
    arena->current = arena->first;
}

void gs_reply_arena_free(gs_reply_arena *arena) {
    if (arena == NULL) return;
    gs_reply_arena_reset(arena);
    free(arena->first);
    free(arena);
}

void gs_reply_arena_attach(gs_reply_arena *arena, void *context) {
    redisContext *c = context;
    c->reader->fn = &arena_functions;
    c->reader->privdata = arena;
}

size_t gs_reply_arena_capacity(const gs_reply_arena *arena) {
    size_t total = 0;
    for (const block *b = arena->first; b != NULL; b = b->next) total += b->size;
    return total;
}
