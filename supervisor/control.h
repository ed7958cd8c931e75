/* SPDX-License-Identifier: MIT */
/* The operator's control socket (mumu-ctl): one request per connection, answered as text. */
#ifndef MUMU_SUPERVISOR_CONTROL_H
#define MUMU_SUPERVISOR_CONTROL_H

#include <stdio.h>
#include <sys/types.h>
#include <sys/un.h>

#include "ipc/ctl.h"

#define SUP_CONTROL_CLIENTS 16		  /* connections waiting for their request, at most */
#define SUP_CONTROL_IDLE_NS 2000000000ULL /* a connection without a request is closed then */

struct sup_control {
	int listen_fd; /* -1 when there is no control socket */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int clients[SUP_CONTROL_CLIENTS];	/* -1: free */
	uint64_t since_ns[SUP_CONTROL_CLIENTS]; /* when each was accepted */
	int spare_fd; /* held open so that a connection can be refused even at EMFILE */
};

/*
 * Answer one valid request: write the text (or JSON) for the operator to out and return 0,
 * or a negative errno with out saying why.
 */
typedef int (*sup_control_fn)(void *ctx, const struct ipc_ctl_request *req, FILE *out);

/*
 * Listen on path: its directory is created 0700 if missing, the socket is 0600. A socket file
 * left by a dead supervisor is replaced; one a live supervisor answers on is -EADDRINUSE.
 */
int sup_control_open(struct sup_control *c, const char *path);

/*
 * Accept one waiting connection (non-blocking): its fd, or -EAGAIN when none waits. When every
 * slot is taken the oldest connection is closed for it (it waited longest without a request).
 * Out of fds (EMFILE, ENFILE), the waiting connection is accepted and closed at once through
 * the spare fd, so that it does not stay ready for ever: -EMFILE. Other errors: -errno.
 */
int sup_control_accept(struct sup_control *c);

/* Close connections that sent no request within SUP_CONTROL_IDLE_NS of now_ns. */
void sup_control_expire(struct sup_control *c, uint64_t now_ns);

/*
 * fd has a request (or garbage): validate it, let fn answer, send the reply, close fd. A peer
 * of another uid than ours (root aside) gets -EACCES; a malformed request gets -EPROTO.
 */
void sup_control_serve(struct sup_control *c, int fd, sup_control_fn fn, void *ctx);

/* Close every connection and the socket, and remove the socket file. */
void sup_control_close(struct sup_control *c);

/* Validate a request's fields (pure); 0 or -EINVAL with why written to out. */
int sup_control_check(const struct ipc_ctl_request *req, FILE *out);

#endif
