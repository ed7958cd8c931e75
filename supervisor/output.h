/* SPDX-License-Identifier: MIT */
/* The supervisor's output (console lines, log lines): queued, written by a thread of its own. */
#ifndef MUMU_SUPERVISOR_OUTPUT_H
#define MUMU_SUPERVISOR_OUTPUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUP_OUTPUT_LINE_MAX 1024 /* bytes of one line, the newline included */
#define SUP_OUTPUT_LINES    4096 /* lines queued at most: 4 MiB, a frame of floods */

struct sup_output_line {
	int fd;
	uint32_t owner;
	uint32_t len;
	char text[SUP_OUTPUT_LINE_MAX];
};

/*
 * A slow reader of stdout or stderr (a paused terminal, a full pipe) must never stall the
 * health monitor or mumu-ctl: the main thread only queues lines, a writer thread blocks in
 * write(2) for it, and a line that finds the queue full is dropped and counted. Each owner (a
 * partition, the supervisor's log) may hold an equal share of the queue: one that floods it
 * loses its own lines, never another's.
 */
struct sup_output {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* work for the writer, or room/empty for sup_output_stop */
	pthread_t thread;
	bool started, stop;
	uint64_t head, tail; /* lines taken, lines queued */
	uint64_t dropped_lines;
	size_t n_owners;
	uint32_t *queued; /* lines of each owner in the queue */
	struct sup_output_line line[SUP_OUTPUT_LINES];
};

/* Start the writer thread (at SCHED_IDLE: it takes only time nobody else wants), for owners
 * 0 .. n_owners - 1. */
int sup_output_start(struct sup_output *o, size_t n_owners);

/*
 * Queue one line of owner for fd, cut to SUP_OUTPUT_LINE_MAX; written whole, in the order
 * queued. Never blocks on the fd. Returns false when the owner's share of the queue is full:
 * the line is dropped and counted. Without a started writer, writes at once.
 */
bool sup_output_put(struct sup_output *o, size_t owner, int fd, const char *line, size_t len);

/*
 * Wait up to timeout_ns for the queue to be written, then stop the writer (a writer blocked
 * for good is left to end with the process: o must outlive it, e.g. be static). Returns the
 * lines dropped in all, the unwritten ones included.
 */
uint64_t sup_output_stop(struct sup_output *o, uint64_t timeout_ns);

#endif
