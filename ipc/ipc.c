/* SPDX-License-Identifier: MIT */
/* The framing both channels share: validation of each message, fd passing. */
#include "ipc/ctl.h"
#include "ipc/vmm.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

bool ipc_payload_size_ok(uint32_t type, size_t size_bytes)
{
	switch (type) {
	case IPC_CONFIG:
		return size_bytes == sizeof(struct ipc_config);
	case IPC_SHUTDOWN:
	case IPC_READY:
		return size_bytes == 0;
	case IPC_CONSOLE:
		return size_bytes >= 1 && size_bytes <= IPC_CONSOLE_MAX;
	case IPC_FAULT:
		return size_bytes == sizeof(struct ipc_fault);
	case IPC_SCHEDULE_REQ:
	case IPC_MODE_REQ:
		return size_bytes == sizeof(struct ipc_u32);
	case IPC_CTL_REQUEST:
		return size_bytes == sizeof(struct ipc_ctl_request);
	case IPC_CTL_REPLY:
		return size_bytes >= sizeof(struct ipc_ctl_reply) &&
		       size_bytes <= sizeof(struct ipc_ctl_reply) + IPC_CTL_TEXT_MAX;
	default:
		return false;
	}
}

int ipc_send(int sock, uint32_t type, const void *payload, size_t size_bytes, const int *fds,
	     size_t n_fds)
{
	struct ipc_hdr hdr = { .type = type, .size_bytes = (uint32_t)size_bytes };
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = size_bytes },
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * IPC_FDS_MAX)];
		struct cmsghdr align;
	} control;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = size_bytes ? 2 : 1 };
	ssize_t n;

	if (!ipc_payload_size_ok(type, size_bytes) || n_fds > IPC_FDS_MAX)
		return -EINVAL;
	if (n_fds > 0) {
		struct cmsghdr *cmsg;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(hdr) + size_bytes)
		return -EPROTO;
	return 0;
}

static void close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

int ipc_recv(int sock, void *buf, uint32_t *ret_type, size_t *ret_size, int *ret_fds,
	     size_t max_fds, size_t *ret_n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * IPC_FDS_MAX)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = IPC_MSG_MAX };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	int fds[IPC_FDS_MAX];
	size_t n_fds = 0;
	struct ipc_hdr hdr;
	ssize_t n;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	/* Collect every fd first, so that none leaks whatever else is wrong. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (n_fds < IPC_FDS_MAX)
				fds[n_fds++] = fd;
			else
				close(fd);
		}
	}

	if (n == 0) {
		close_all(fds, n_fds);
		return -ECONNRESET;
	}
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(hdr))
		goto proto;
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.size_bytes != (size_t)n - sizeof(hdr) ||
	    !ipc_payload_size_ok(hdr.type, hdr.size_bytes))
		goto proto;
	if (n_fds > max_fds || (n_fds > 0 && (!ret_fds || !ret_n_fds)))
		goto proto;

	memmove(buf, (char *)buf + sizeof(hdr), hdr.size_bytes);
	*ret_type = hdr.type;
	*ret_size = hdr.size_bytes;
	if (ret_n_fds) {
		if (n_fds > 0)
			memcpy(ret_fds, fds, n_fds * sizeof(int));
		*ret_n_fds = n_fds;
	}
	return 0;
proto:
	close_all(fds, n_fds);
	return -EPROTO;
}

const char *ipc_type_name(uint32_t type)
{
	static const char *const names[IPC_TYPE_COUNT] = {
		[IPC_CONFIG] = "CONFIG",       [IPC_SHUTDOWN] = "SHUTDOWN",
		[IPC_READY] = "READY",	       [IPC_CONSOLE] = "CONSOLE",
		[IPC_FAULT] = "FAULT",	       [IPC_SCHEDULE_REQ] = "SCHEDULE_REQ",
		[IPC_MODE_REQ] = "MODE_REQ",   [IPC_CTL_REQUEST] = "CTL_REQUEST",
		[IPC_CTL_REPLY] = "CTL_REPLY",
	};

	return type < IPC_TYPE_COUNT && names[type] ? names[type] : "UNKNOWN";
}

const char *ipc_fault_name(uint32_t kind)
{
	static const char *const names[IPC_FAULT_COUNT] = {
		[IPC_FAULT_TRIPLE_FAULT] = "triple fault",
		[IPC_FAULT_EXCEPTION] = "exception",
		[IPC_FAULT_INTERNAL_ERROR] = "KVM internal error",
		[IPC_FAULT_UNMAPPED_ACCESS] = "access to unmapped memory",
		[IPC_FAULT_READONLY_WRITE] = "write to read-only memory",
		[IPC_FAULT_BAD_HYPERCALL] = "bad hypercall",
		[IPC_FAULT_APPLICATION] = "application error",
		[IPC_FAULT_VMM_ERROR] = "VMM error",
		[IPC_FAULT_SECCOMP] = "forbidden system call",
	};

	return kind < IPC_FAULT_COUNT ? names[kind] : "unknown fault";
}
