/* SPDX-License-Identifier: MIT */
/* The operator's channel: mumu-ctl's requests to the supervisor and its answers. */
#ifndef MUMU_IPC_CTL_H
#define MUMU_IPC_CTL_H

#include <stdint.h>

#include "ipc/ipc.h"
#include "mumu/abi.h"

/*
 * The operator's control socket (mumu-ctl): an AF_UNIX SOCK_SEQPACKET socket the supervisor
 * listens on (mode 0600, its own uid only). One connection carries one IPC_CTL_REQUEST and
 * its answer: IPC_CTL_REPLY messages, each with up to IPC_CTL_TEXT_MAX bytes of text, all but
 * the last with more = 1. A VMM never sends these: on its channel they are a violation.
 */
#define IPC_CTL_SOCKET_DEFAULT "/run/mumu/control.sock"

enum ipc_ctl_op {
	IPC_CTL_STATUS = 1,   /* partitions, modes, pids, cores, restarts, last error, windows */
	IPC_CTL_HM_LOG = 2,   /* the health-monitor log */
	IPC_CTL_RESTART = 3,  /* restart partition (cold, or warm with IPC_CTL_WARM) */
	IPC_CTL_STOP = 4,     /* set partition IDLE */
	IPC_CTL_SCHEDULE = 5, /* request schedule_id from the next major frame */
	IPC_CTL_OP_COUNT
};

#define IPC_CTL_JSON  (1U << 0) /* answer in JSON */
#define IPC_CTL_WARM  (1U << 1) /* IPC_CTL_RESTART: warm start (RAM kept) */
#define IPC_CTL_FLAGS (IPC_CTL_JSON | IPC_CTL_WARM)

struct ipc_ctl_request {
	uint32_t op; /* enum ipc_ctl_op */
	uint32_t flags;
	uint32_t schedule_id;
	uint32_t reserved;		   /* 0 */
	char partition[MUMU_NAME_MAX + 8]; /* NUL-terminated; RESTART and STOP */
};
_Static_assert(sizeof(struct ipc_ctl_request) == 56, "wire format");

struct ipc_ctl_reply {
	int32_t status; /* 0, or a negative errno: the text says why */
	uint32_t more;	/* 1: another IPC_CTL_REPLY follows */
};
#define IPC_CTL_TEXT_MAX (IPC_MSG_MAX - sizeof(struct ipc_hdr) - sizeof(struct ipc_ctl_reply))

#endif
