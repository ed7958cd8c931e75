/* SPDX-License-Identifier: MIT */
/* Test builds only (MUMU_TEST_HOOKS): make the VMM attempt what a compromised one would, so
 * that the end-to-end tests can show the sandbox refuses it. Compiled out of release builds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "ipc/ctl.h"
#include "ipc/vmm.h"
#include "vmm/vmm.h"

bool vmm_test_ignore_window_end;
bool vmm_test_lie_window_end;
bool vmm_test_hold_batons;

#ifdef MUMU_TEST_HOOKS
/*
 * What a compromised VMM could send its supervisor: every one of these must get the VMM
 * killed (a protocol violation) or, for the flood, simply be absorbed, and nothing else.
 */
/* One datagram as the VMM's filter allows it: sendmsg (send and sendto are not allowed). */
static long raw_send(const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	return sendmsg(IPC_CTL_FD, &msg, 0);
}

static long send_attack(const char *what)
{
	static uint8_t buf[3 * IPC_MSG_MAX];
	struct ipc_hdr *h = (struct ipc_hdr *)buf;
	uint64_t x = 0x9e3779b97f4a7c15ULL; /* xorshift: the same messages every run */
	long r = 0;

	if (strcmp(what, "garbage") == 0)
		return raw_send("\x01\x02\x03", 3);
	if (strcmp(what, "oversized") == 0) {
		*h =
		    (struct ipc_hdr){ .type = IPC_CONSOLE, .size_bytes = sizeof(buf) - sizeof(*h) };
		memset(buf + sizeof(*h), 'A', sizeof(buf) - sizeof(*h));
		return raw_send(buf, sizeof(buf));
	}
	if (strcmp(what, "unknown_type") == 0) {
		*h = (struct ipc_hdr){ .type = 99 };
		return raw_send(buf, sizeof(*h));
	}
	if (strcmp(what, "lying_size") == 0) {
		*h = (struct ipc_hdr){ .type = IPC_CONSOLE, .size_bytes = 100 };
		return raw_send(buf, sizeof(*h) + 10);
	}
	if (strcmp(what, "ctl_request") == 0) {
		struct ipc_ctl_request req = { .op = IPC_CTL_STOP, .partition = "witness" };

		return ipc_send(IPC_CTL_FD, IPC_CTL_REQUEST, &req, sizeof(req), NULL, 0);
	}
	if (strcmp(what, "ready_twice") == 0)
		return ipc_send(IPC_CTL_FD, IPC_READY, NULL, 0, NULL, 0);
	if (strcmp(what, "flood") == 0) {
		/* As fast as the channel takes them: waits only when it is full. */
		for (int i = 0; i < 5000 && r >= 0;) {
			struct pollfd p = { .fd = IPC_CTL_FD, .events = POLLOUT };

			r = ipc_send(IPC_CTL_FD, IPC_CONSOLE, "flooding the supervisor\n", 24, NULL,
				     0);
			i += r == 0;
			if (r == -EAGAIN)
				r = poll(&p, 1, -1);
		}
		return r;
	}
	if (strcmp(what, "fuzz") == 0) {
		/* Random headers and payloads, some of them valid, until the supervisor hangs up. */
		for (int i = 0; i < 5000 && r >= 0; i++) {
			size_t size;

			for (size_t k = 0; k < 64;
			     k++) { /* the header and the start of a payload */
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				memcpy(buf + 8 * k, &x, 8);
			}
			h->type = (uint32_t)(x % (IPC_TYPE_COUNT + 2));
			size = (size_t)(x >> 8) % (IPC_MSG_MAX + 64);
			h->size_bytes = (x >> 40) % 8 ? (uint32_t)(size - sizeof(*h) * (size >= 8))
						      : (uint32_t)(x >> 32);
			r = raw_send(buf, size);
		}
		return r;
	}
	errno = EINVAL;
	return -1;
}

static void attempt(struct vmm *vmm, const char *what)
{
	long r = 0;

	log_info("test hook: attempting '%s'", what);
	if (strcmp(what, "ignore_window_end") == 0) {
		vmm_test_ignore_window_end = true;
		return;
	} else if (strcmp(what, "hold_batons") == 0) {
		vmm_test_hold_batons = true;
		return;
	} else if (strcmp(what, "lie_window_end") == 0) {
		vmm_test_ignore_window_end = vmm_test_lie_window_end = true;
		return;
	} else if (strcmp(what, "never_ready") == 0) {
		for (;;) /* a VMM stuck before READY: the supervisor must not wait forever */
			poll(NULL, 0, -1);
	} else if (strcmp(what, "execve") == 0) {
		char *argv[] = { "/bin/sh", NULL };

		r = execve("/bin/sh", argv, NULL);
	} else if (strcmp(what, "open") == 0) {
		r = open("/etc/passwd", O_RDONLY);
	} else if (strcmp(what, "socket") == 0) {
		r = socket(AF_INET, SOCK_STREAM, 0);
	} else if (strcmp(what, "ptrace") == 0) {
		r = ptrace(PTRACE_ATTACH, vmm->supervisor_pid, NULL, NULL);
	} else if (strcmp(what, "mount") == 0) {
		r = mount("none", "/", "tmpfs", 0, NULL);
	} else if (strcmp(what, "kill") == 0) {
		r = kill(vmm->supervisor_pid, SIGKILL);
	} else if (strcmp(what, "mmap_exec") == 0) {
		r = (long)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);
	} else if (strcmp(what, "setaffinity") == 0) {
		cpu_set_t all;

		memset(&all, 0xff, sizeof(all)); /* out of its partition's cores */
		r = sched_setaffinity(0, sizeof(all), &all);
	} else if (strcmp(what, "ioctl") == 0) {
		struct kvm_regs regs;

		r = ioctl(vmm->vcpu[0].fd, KVM_GET_REGS, &regs);
	} else if (strncmp(what, "msg_", 4) == 0) {
		r = send_attack(what + 4);
	} else if (strcmp(what, "mprotect_ro") == 0) {
		/* The control page comes from a read-only fd: the kernel refuses a writable map. */
		r = mprotect((void *)vmm->ctl, MUMU_PAGE_BYTES, PROT_READ | PROT_WRITE);
	} else if (strcmp(what, "mprotect_region") == 0) {
		/* A reader's shared region came from a read-only fd: no writable mapping either. */
		r = -1;
		errno = ENOENT;
		for (uint32_t i = 0; i < vmm->cfg.n_regions && r < 0 && errno == ENOENT; i++)
			if (vmm->cfg.regions[i].access == MUMU_ACCESS_READ)
				r = mprotect(vmm->region_hva[i], vmm->cfg.regions[i].size_bytes,
					     PROT_READ | PROT_WRITE);
	} else {
		log_error("test hook: unknown attempt '%s'", what);
		return;
	}
	log_warn("test hook: '%s' returned %ld (%s)", what, r, r < 0 ? strerror(errno) : "success");
}
#endif

void vmm_test_hook(struct vmm *vmm)
{
#ifdef MUMU_TEST_HOOKS
	const char *what = getenv("MUMU_TEST_ATTEMPT");
	const char *who = getenv("MUMU_TEST_ATTEMPT_PARTITION");

	if (what && (!who || strcmp(who, vmm->cfg.partition_name) == 0))
		attempt(vmm, what);
#endif
}
