/*
 * What reading one stream entry costs the client, with hiredis's own reply objects (one allocation per object
 * and per string, freed one by one) and with the connection's reply arena (Sources/CReplyArena).
 *
 *   reply-cost PORT [ROUNDS]
 *
 * Stores 500 entries of 20 fields, as a goal.progressed message has, in the stream `reply-cost:stream` of the
 * Redis on 127.0.0.1:PORT, then reads them all with XRANGE ROUNDS times (default 400) on a connection of each
 * kind in turn, three times, and prints the client's CPU per entry read (user + system, the reads' system
 * calls included). Deletes the stream at the end.
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "reply_arena.h"

static const int entries = 500;

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static redisContext *connect_to(int port) {
    redisContext *c = redisConnect("127.0.0.1", port);
    if (c == NULL || c->err) {
        fprintf(stderr, "reply-cost: cannot connect to 127.0.0.1:%d: %s\n", port, c ? c->errstr : "out of memory");
        exit(1);
    }
    return c;
}

/* Runs a command whose format takes `n` twice (the entry's number). */
static void command(redisContext *c, const char *format, int n) {
    redisReply *reply = redisCommand(c, format, n, n);
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "reply-cost: %s\n", reply ? reply->str : c->errstr);
        exit(1);
    }
    freeReplyObject(reply);
}

/* CPU microseconds per entry over `rounds` reads of the whole stream, with an arena when `arena` is set. */
static double read_cost(int port, int rounds, int arena) {
    redisContext *c = connect_to(port);
    gs_reply_arena *replies = NULL;
    if (arena) {
        replies = gs_reply_arena_create();
        gs_reply_arena_attach(replies, c);
    }
    double start = cpu_seconds();
    for (int round = 0; round < rounds; round++) {
        void *reply = NULL;
        if (redisAppendCommand(c, "XRANGE reply-cost:stream - +") != REDIS_OK || redisGetReply(c, &reply) != REDIS_OK
            || ((redisReply *)reply)->elements != (size_t)entries) {
            fprintf(stderr, "reply-cost: XRANGE failed: %s\n", c->errstr);
            exit(1);
        }
        if (arena) gs_reply_arena_reset(replies); else freeReplyObject(reply);
    }
    double seconds = cpu_seconds() - start;
    redisFree(c);
    gs_reply_arena_free(replies);
    return seconds / rounds / entries * 1e6;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: reply-cost PORT [ROUNDS]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    int rounds = argc > 2 ? atoi(argv[2]) : 400;
    redisContext *c = connect_to(port);
    freeReplyObject(redisCommand(c, "DEL reply-cost:stream"));
    for (int i = 0; i < entries; i++) {
        command(c,
                "XADD reply-cost:stream * id 73284e14db788ceaf%03d signal goal.progressed at_ms 1796529541000 "
                "cause 0d443b6f32b1f5388636 trace 0d443b6f32b1f5388636 goal_id goal-%06d _cls ExclusiveGoal amount 400 "
                "conditions {} context.started 1796529141 context.paused 1796529541 context.last_updated 1796529541 "
                "progress 400 breakdown_id b1 levels.0.target 360 metadata {} exp 0 level 1 old_level 0",
                i);
    }
    printf("client CPU per 20-field stream entry read, µs (XRANGE of %d entries, %d rounds):\n", entries, rounds);
    for (int pass = 1; pass <= 3; pass++) {
        double own = read_cost(port, rounds, 0);
        double arena = read_cost(port, rounds, 1);
        printf("  pass %d: hiredis's reply objects %.2f, reply arena %.2f (%.0f %%)\n", pass, own, arena, 100 * arena / own);
    }
    freeReplyObject(redisCommand(c, "DEL reply-cost:stream"));
    redisFree(c);
    return 0;
}
