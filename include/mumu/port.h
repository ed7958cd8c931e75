/* SPDX-License-Identifier: MIT */
/*
 * Ports in shared memory (docs/abi.md): the layouts both ends of a channel agree on. The
 * data path needs no VM exit and no supervisor; no host code ever reads these pages.
 *
 * Sampling port (one region, written by the source only):
 *   two slots of mumu_sampling_slot_bytes(max) each; message n (1, 2, ...) goes to slot
 *   n % 2. The newest complete message is the larger of the two slots' seq (MUMU_SEQ_WRITING
 *   counts as none). The writer marks the older slot MUMU_SEQ_WRITING, fills it and stores
 *   its number last, so a writer killed mid-write leaves the newest message intact. A reader
 *   copies a slot and keeps the copy only if the slot's seq is the same before and after (a
 *   sequence lock): it never returns a torn message. No header: a write touches only the
 *   lines of one slot, which the reader of the other slot never waits for.
 *
 * Queuing port (two regions, listed one after the other under the port's name):
 *   MUMU_REGION_QUEUING_PORT, written by the source: struct mumu_queue_header, then
 *   max_nb_messages slots of mumu_queue_slot_bytes(max) each, a ring indexed by count % depth;
 *   MUMU_REGION_QUEUING_ACK, one page written by the destination: struct mumu_queue_ack.
 *   head - tail messages are waiting; a send to a full queue is refused and counted in
 *   `overflows`, which the receiver sees as the overflow condition on its next receive.
 */
#ifndef MUMU_PORT_H
#define MUMU_PORT_H

#include <stdint.h>

#include "mumu/abi.h" /* MUMU_STATIC_ASSERT */

#define MUMU_PORT_MESSAGE_MAX 65536 /* bytes of one message, MaxMessageSize */
#define MUMU_QUEUE_DEPTH_MAX  4096  /* messages of a queuing port, MaxNbMessages */
#define MUMU_SEQ_WRITING      UINT64_MAX

/* seq has a cache line of its own: readers poll it, and the writer stores it twice. */
struct mumu_sampling_slot {
	uint64_t seq; /* the message's number once complete, MUMU_SEQ_WRITING before */
	uint64_t reserved0[7];
	uint64_t time_ns; /* when it was written: CLOCK_MONOTONIC of the host */
	uint32_t length;  /* bytes of data, at most max_message_bytes */
	uint32_t reserved1;
	/* max_message_bytes of data follow */
};
MUMU_STATIC_ASSERT(sizeof(struct mumu_sampling_slot) == 80, "ABI");

struct mumu_queue_header {
	uint64_t head;	    /* messages sent */
	uint64_t overflows; /* sends refused because the queue was full */
	uint64_t reserved[6];
};
MUMU_STATIC_ASSERT(sizeof(struct mumu_queue_header) == 64, "ABI");

struct mumu_queue_slot {
	uint64_t time_ns;
	uint32_t length;
	uint32_t reserved;
	/* max_message_bytes of data follow */
};
MUMU_STATIC_ASSERT(sizeof(struct mumu_queue_slot) == 16, "ABI");

struct mumu_queue_ack {
	uint64_t tail;		 /* messages received */
	uint64_t overflows_seen; /* the sender's overflows the receiver has reported */
	uint64_t reserved[6];
};
MUMU_STATIC_ASSERT(sizeof(struct mumu_queue_ack) == 64, "ABI");

static inline uint64_t mumu_page_align(uint64_t n)
{
	return (n + 0xfffULL) & ~0xfffULL;
}

static inline uint64_t mumu_sampling_slot_bytes(uint32_t max_message_bytes)
{
	return (sizeof(struct mumu_sampling_slot) + (uint64_t)max_message_bytes + 63) & ~63ULL;
}

static inline uint64_t mumu_sampling_bytes(uint32_t max_message_bytes)
{
	return mumu_page_align(2 * mumu_sampling_slot_bytes(max_message_bytes));
}

static inline uint64_t mumu_queue_slot_bytes(uint32_t max_message_bytes)
{
	return (sizeof(struct mumu_queue_slot) + (uint64_t)max_message_bytes + 63) & ~63ULL;
}

/* The source's part of a queuing port; the destination's part is one page. */
static inline uint64_t mumu_queue_bytes(uint32_t max_message_bytes, uint32_t max_nb_messages)
{
	return mumu_page_align(sizeof(struct mumu_queue_header) +
			       (uint64_t)max_nb_messages *
				   mumu_queue_slot_bytes(max_message_bytes));
}

#endif
