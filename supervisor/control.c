/* SPDX-License-Identifier: MIT */
/* The operator's control socket: accept, validate one request, answer, close. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "supervisor/control.h"

static bool is_client(const struct sup_control *c, int fd)
{
	for (size_t i = 0; i < SUP_CONTROL_CLIENTS; i++)
		if (c->clients[i] == fd)
			return true;
	return false;
}

static void free_slot(struct sup_control *c, int fd)
{
	for (size_t i = 0; i < SUP_CONTROL_CLIENTS; i++)
		if (c->clients[i] == fd)
			c->clients[i] = -1;
}

/* Is a live supervisor answering on path? */
static bool answered(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool live = fd >= 0 && connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;

	if (fd >= 0)
		close(fd);
	return live;
}

int sup_control_open(struct sup_control *c, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[sizeof(addr.sun_path)];
	mode_t old;
	int r;

	c->listen_fd = -1;
	for (size_t i = 0; i < SUP_CONTROL_CLIENTS; i++)
		c->clients[i] = -1;
	c->spare_fd = -1;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	memcpy(dir, path, strlen(path) + 1);
	if (mkdir(dirname(dir), 0700) < 0 && errno != EEXIST)
		return -errno;
	if (answered(&addr))
		return -EADDRINUSE;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	c->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return -errno;
	old = umask(0177); /* the socket file: 0600 */
	r = bind(c->listen_fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (r < 0 || listen(c->listen_fd, SUP_CONTROL_CLIENTS) < 0) {
		r = -errno;
		close(c->listen_fd);
		c->listen_fd = -1;
		return r;
	}
	memcpy(c->path, path, strlen(path) + 1);
	/* Held for EMFILE (sup_control_accept); without it that case refuses nobody. */
	c->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return 0;
}

int sup_control_accept(struct sup_control *c)
{
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t oldest = 0;

	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && c->spare_fd >= 0) {
		close(c->spare_fd);
		fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		c->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		log_warn("control: a connection was refused: out of file descriptors");
		return -EMFILE;
	}
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < SUP_CONTROL_CLIENTS; i++) {
		if (c->clients[i] < 0) {
			oldest = i;
			break;
		}
		if (c->since_ns[i] < c->since_ns[oldest])
			oldest = i;
	}
	if (c->clients[oldest] >= 0)
		close(c->clients[oldest]); /* it also leaves the epoll set */
	c->clients[oldest] = fd;
	c->since_ns[oldest] = mono_ns();
	return fd;
}

void sup_control_expire(struct sup_control *c, uint64_t now_ns)
{
	for (size_t i = 0; i < SUP_CONTROL_CLIENTS; i++)
		if (c->clients[i] >= 0 && now_ns - c->since_ns[i] >= SUP_CONTROL_IDLE_NS) {
			close(c->clients[i]);
			c->clients[i] = -1;
		}
}

int sup_control_check(const struct ipc_ctl_request *req, FILE *out)
{
	if (req->op == 0 || req->op >= IPC_CTL_OP_COUNT) {
		fprintf(out, "unknown operation %u\n", req->op);
		return -EINVAL;
	}
	if (req->flags & ~IPC_CTL_FLAGS) {
		fprintf(out, "unknown flags 0x%x\n", req->flags & ~IPC_CTL_FLAGS);
		return -EINVAL;
	}
	if (req->reserved) {
		fprintf(out, "the reserved field is 0x%x, not 0\n", req->reserved);
		return -EINVAL;
	}
	if (!memchr(req->partition, 0, sizeof(req->partition))) {
		fprintf(out, "the partition name is not terminated\n");
		return -EINVAL;
	}
	if ((req->op == IPC_CTL_RESTART || req->op == IPC_CTL_STOP) && !req->partition[0]) {
		fprintf(out, "which partition?\n");
		return -EINVAL;
	}
	return 0;
}

/*
 * The answer in IPC_CTL_TEXT_MAX pieces, without waiting: it fits the socket's buffer, and a
 * peer that let the buffer fill loses the rest (the main loop never waits on a client).
 */
static void reply(int fd, int status, const char *text, size_t len)
{
	static uint8_t msg[sizeof(struct ipc_ctl_reply) + IPC_CTL_TEXT_MAX];
	size_t off = 0;

	do {
		size_t n = len - off < IPC_CTL_TEXT_MAX ? len - off : IPC_CTL_TEXT_MAX;
		struct ipc_ctl_reply r = { .status = status, .more = off + n < len };

		memcpy(msg, &r, sizeof(r));
		memcpy(msg + sizeof(r), text + off, n);
		if (ipc_send(fd, IPC_CTL_REPLY, msg, sizeof(r) + n, NULL, 0) < 0)
			return;
		off += n;
	} while (off < len);
}

void sup_control_serve(struct sup_control *c, int fd, sup_control_fn fn, void *ctx)
{
	static uint8_t buf[IPC_MSG_MAX];
	struct ipc_ctl_request req;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char *text = NULL;
	size_t text_len = 0;
	uint32_t type;
	size_t size;
	FILE *out;
	int status, r;

	if (!is_client(c, fd))
		return; /* closed since its event was reported (idle, or evicted) */
	out = open_memstream(&text, &text_len);
	r = ipc_recv(fd, buf, &type, &size, NULL, 0, NULL);
	if (r == -EAGAIN || r == -EINTR) {
		if (out)
			fclose(out);
		free(text);
		return; /* not yet: the caller watches it */
	}
	free_slot(c, fd);
	if (!out) {
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		fprintf(out, "permission denied: only uid %u may control this supervisor\n",
			geteuid());
		status = -EACCES;
	} else if (r < 0 || type != IPC_CTL_REQUEST) {
		fprintf(out, "malformed request\n");
		status = -EPROTO;
	} else {
		memcpy(&req, buf, sizeof(req));
		status = sup_control_check(&req, out);
		if (status == 0)
			status = fn(ctx, &req, out);
	}
	if (status < 0 && status != -EACCES)
		log_debug("control: a request was refused (%s)", strerror(-status));
	fclose(out);
	reply(fd, status, text ? text : "", text ? text_len : 0);
	free(text);
	close(fd);
}

void sup_control_close(struct sup_control *c)
{
	if (c->listen_fd < 0)
		return;
	for (size_t i = 0; i < SUP_CONTROL_CLIENTS; i++)
		if (c->clients[i] >= 0) {
			close(c->clients[i]);
			c->clients[i] = -1;
		}
	close(c->listen_fd);
	c->listen_fd = -1;
	if (c->spare_fd >= 0)
		close(c->spare_fd);
	c->spare_fd = -1;
	unlink(c->path);
}
