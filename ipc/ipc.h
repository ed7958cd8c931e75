/* SPDX-License-Identifier: MIT */
/*
 * The framing every channel shares: one datagram of an AF_UNIX SOCK_SEQPACKET socket is one
 * message, struct ipc_hdr then the payload, fds beside it (SCM_RIGHTS). The channels and
 * what they carry: ipc/vmm.h (supervisor and a VMM), ipc/ctl.h (supervisor and mumu-ctl).
 */
#ifndef MUMU_IPC_IPC_H
#define MUMU_IPC_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPC_MSG_MAX 8192 /* bytes of header + payload */

/* Every message type, numbered apart per channel: one sent on the wrong channel is refused. */
enum ipc_type {
	/* the VMM channel (ipc/vmm.h) */
	IPC_CONFIG = 1,	      /* sup -> vmm: struct ipc_config + fds */
	IPC_SHUTDOWN = 2,     /* sup -> vmm: no payload; exit 0 */
	IPC_READY = 3,	      /* vmm -> sup: no payload; VM built, image loaded, sandbox on */
	IPC_CONSOLE = 4,      /* vmm -> sup: 1..IPC_CONSOLE_MAX bytes of guest console output */
	IPC_FAULT = 5,	      /* vmm -> sup: struct ipc_fault */
	IPC_SCHEDULE_REQ = 6, /* vmm -> sup: struct ipc_u32 (schedule id) */
	IPC_MODE_REQ = 7,     /* vmm -> sup: struct ipc_u32 (enum mumu_mode) */
	/* the operator's channel (ipc/ctl.h) */
	IPC_CTL_REQUEST = 8, /* mumu-ctl -> sup: struct ipc_ctl_request */
	IPC_CTL_REPLY = 9,   /* sup -> mumu-ctl: struct ipc_ctl_reply + text */
	IPC_TYPE_COUNT
};

struct ipc_hdr {
	uint32_t type;	     /* enum ipc_type */
	uint32_t size_bytes; /* of the payload that follows */
};

/*
 * Send one message with optional fds. Returns 0 or a negative errno (-EAGAIN when a
 * non-blocking socket is full).
 */
int ipc_send(int sock, uint32_t type, const void *payload, size_t size_bytes, const int *fds,
	     size_t n_fds);

/*
 * Receive one message into buf (at least IPC_MSG_MAX bytes). Validates the header: known
 * type, payload size allowed for that type (ipc_payload_size_ok), no truncation; received fds
 * beyond max_fds, or on a message that fails validation, are closed. On success returns 0 and
 * fills *ret_type, *ret_size, ret_fds[0..*ret_n_fds). Returns -EPROTO for a malformed
 * message, -ECONNRESET at end of stream, other negative errnos from recvmsg.
 */
int ipc_recv(int sock, void *buf, uint32_t *ret_type, size_t *ret_size, int *ret_fds,
	     size_t max_fds, size_t *ret_n_fds);

/* True when size_bytes is a valid payload size for type. */
bool ipc_payload_size_ok(uint32_t type, size_t size_bytes);

const char *ipc_type_name(uint32_t type);

#endif
