/* SPDX-License-Identifier: MIT */
/*
 * Ports and shared regions for guests, in the shape of ARINC 653 APEX (docs/ports.md). Every
 * call works on shared memory only: no VM exit, except a wait for the next window when a
 * call has a timeout. The peer is not trusted: what it could not have written is -EBADMSG.
 * This file and port.c build for guests and, for the unit tests, for the host.
 */
#ifndef MUMU_GUEST_PORT_H
#define MUMU_GUEST_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mumu/abi.h"
#include "mumu/port.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mumu_port {
	const struct mumu_region *region; /* the information page's entry */
	uint8_t *data;			  /* the region: the source writes it */
	struct mumu_queue_ack *ack;	  /* queuing: the destination's page */
	bool source;
	uint32_t kind;	     /* enum mumu_region_kind */
	uint64_t slot_bytes; /* of one message slot */
	uint32_t max_message_bytes;
	uint32_t max_nb_messages;
	uint64_t refresh_period_ns;
	uint64_t seq; /* sampling source: the number of the last message it wrote */
};

/* What a read or receive learnt besides the message. */
struct mumu_message_info {
	uint64_t seq;	 /* the message's number: 1 for the first a source ever wrote */
	uint64_t age_ns; /* now - when it was written */
	bool valid;	 /* sampling: age <= RefreshPeriod */
	bool overflowed; /* queuing: the source found the queue full since the last receive */
};

struct mumu_port_status {
	uint32_t kind; /* enum mumu_region_kind */
	bool source;
	uint32_t max_message_bytes;
	uint32_t max_nb_messages; /* queuing */
	uint64_t refresh_period_ns;
	uint64_t nb_messages; /* queuing: waiting now; sampling: published so far */
};

/* The time base of message timestamps and a wait for the next window; port.c's users supply
 * them (the guest runtime: the TSC calibrated against MUMU_HC_TIME_NS, and MUMU_HC_YIELD). */
uint64_t mumu_now_ns(void);
void mumu_wait_window(void);

/*
 * CREATE_SAMPLING_PORT / CREATE_QUEUING_PORT: bind port to the configured port name of kind
 * (MUMU_REGION_SAMPLING_PORT or MUMU_REGION_QUEUING_PORT). 0, -ENOENT when the partition
 * has no such port, -EINVAL when it is of the other kind or its table entry is malformed.
 */
int mumu_port_open(const struct mumu_info *info, const char *name, uint32_t kind,
		   struct mumu_port *port);
/* A shared region (SharedMemory) by name: its address and size; NULL when absent. */
void *mumu_region_find(const struct mumu_info *info, const char *name, uint64_t *size,
		       bool *writable);

/*
 * WRITE_SAMPLING_MESSAGE: replaces the port's message. 0, -EPERM on a destination, -EMSGSIZE.
 * The port numbers its messages itself: one port handle (and one vCPU) writes a source port.
 */
int mumu_sampling_write(struct mumu_port *port, const void *msg, uint32_t len);
/*
 * READ_SAMPLING_MESSAGE: the latest message into buf (size bytes). 0 with *len and *mi;
 * -EAGAIN when none was ever written; -EMSGSIZE when size is too small; -EBADMSG when the
 * source wrote garbage or kept the message changing throughout.
 */
int mumu_sampling_read(struct mumu_port *port, void *buf, uint32_t size, uint32_t *len,
		       struct mumu_message_info *mi);

/*
 * SEND_QUEUING_MESSAGE: 0; when the queue is full, waits up to timeout_windows windows
 * for room, then -EAGAIN (timeout 0) or -ETIMEDOUT, and the receiver learns of the overflow.
 */
int mumu_queuing_send(struct mumu_port *port, const void *msg, uint32_t len,
		      uint32_t timeout_windows);
/* RECEIVE_QUEUING_MESSAGE: the oldest message; when none, waits as send does. */
int mumu_queuing_receive(struct mumu_port *port, void *buf, uint32_t size, uint32_t *len,
			 uint32_t timeout_windows, struct mumu_message_info *mi);

/* GET_SAMPLING_PORT_STATUS / GET_QUEUING_PORT_STATUS. */
int mumu_port_status(const struct mumu_port *port, struct mumu_port_status *st);

#ifdef __cplusplus
}
#endif
#endif
