/* SPDX-License-Identifier: MIT */
/* The operator's control socket (mumu-ctl): one request per connection, answered as text. */
#ifndef MUMU_SUPERVISOR_CONTROL_H
#define MUMU_SUPERVISOR_CONTROL_H

#include <stdio.h>
#include <sys/types.h>
#include <sys/un.h>

#include "ipc/ipc.h"

#define SUP_CONTROL_CLIENTS 16 /* connections waiting for their request, at most */

struct sup_control {
	int listen_fd; /* -1 when there is no control socket */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int clients[SUP_CONTROL_CLIENTS]; /* -1: free */
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

/* Accept one waiting connection (non-blocking): its fd, or -EAGAIN, or another -errno. */
int sup_control_accept(struct sup_control *c);

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
