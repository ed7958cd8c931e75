/* SPDX-License-Identifier: MIT */
/* The VMM's system call allowlist (docs/security.md): one table, one filter, every thread. */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/util.h"
#include "ipc/vmm.h"
#include "seccomp/seccomp.h"

/*
 * What a VMM may do once its VM is built and its vCPU threads wait for windows. Every entry
 * says why. Arguments are compared where a wider use would give a compromised VMM more than
 * its own VM, its own memory and its control channel.
 */
enum arg_rule {
	ANY,	      /* no argument rule */
	FD_CTL,	      /* arg0 == IPC_CTL_FD: only the control socket */
	IOCTL_KVMRUN, /* arg1 == KVM_RUN: the only KVM request after setup that runs */
	IOCTL_SREGS,  /* arg1 == KVM_GET_SREGS: reads a vCPU's own state, changes nothing */
	IOCTL_SLOT,   /* arg1 == KVM_SET_USER_MEMORY_REGION: its own memory in its own VM */
	NO_EXEC_2,    /* (arg2 & PROT_EXEC) == 0: mmap, mprotect never make code */
	OWN_PID_0,    /* arg0 == own pid: signals only to itself (abort, raise) */
	FUTEX_PLAIN,  /* arg1 one of futex_ops: no PI, no requeue */
};

/*
 * The futex operations libc's locks, condition variables and barriers use (glibc 2.36), with
 * or without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME. Not the priority-inheritance and
 * requeue operations, the futex code behind CVE-2014-3153 and its kind, which nothing in a
 * VMM uses.
 */
static const int futex_ops[] = { FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET };
#define FUTEX_FLAGS (FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)

static const struct rule {
	int nr;
	enum arg_rule arg;
	const char *why;
} allow[] = {
	{ SCMP_SYS(ioctl), IOCTL_KVMRUN, "vCPU threads enter the guest (KVM_RUN)" },
	{ SCMP_SYS(ioctl), IOCTL_SREGS, "the address of a guest page fault (CR2, KVM_GET_SREGS)" },
	{ SCMP_SYS(ioctl), IOCTL_SLOT,
	  "a guard page: a slot added and deleted makes KVM drop its shadow page tables" },
	{ SCMP_SYS(read), ANY, "go eventfds: a window starts" },
	{ SCMP_SYS(write), ANY, "done eventfds; log lines to stderr" },
	{ SCMP_SYS(sendmsg), FD_CTL, "console, faults and requests to the supervisor" },
	{ SCMP_SYS(recvmsg), FD_CTL, "messages from the supervisor (SHUTDOWN)" },
	{ SCMP_SYS(poll), ANY, "the main thread waits on the control socket" },
	{ SCMP_SYS(ppoll), ANY, "poll() on newer libcs" },
	{ SCMP_SYS(timer_settime), ANY, "a vCPU arms and disarms its window-end timer" },
	{ SCMP_SYS(clock_gettime), ANY, "TIME_NS and window times (when the vDSO cannot)" },
	{ SCMP_SYS(clock_nanosleep), ANY,
	  "a vCPU sleeps until its window starts; waits for socket room" },
	{ SCMP_SYS(getcpu), ANY, "sched_getcpu: where a vCPU ran (when the vDSO cannot)" },
	{ SCMP_SYS(futex), FUTEX_PLAIN, "libc locks (malloc, stdio), the start barrier" },
	{ SCMP_SYS(mmap), NO_EXEC_2, "malloc arenas; never executable" },
	{ SCMP_SYS(munmap), ANY, "free and exit" },
	{ SCMP_SYS(mprotect), NO_EXEC_2, "malloc arenas; never executable" },
	{ SCMP_SYS(madvise), ANY, "free returns memory" },
	{ SCMP_SYS(brk), ANY, "malloc" },
	{ SCMP_SYS(rt_sigreturn), ANY, "return from the window-end signal handler" },
	{ SCMP_SYS(rt_sigprocmask), ANY, "libc blocks signals around its own work" },
	{ SCMP_SYS(restart_syscall), ANY, "a syscall interrupted by the window-end signal" },
	{ SCMP_SYS(getpid), ANY, "libc (raise, abort)" },
	{ SCMP_SYS(gettid), ANY, "libc (raise, abort)" },
	{ SCMP_SYS(tgkill), OWN_PID_0, "abort() and raise() signal the process itself" },
	{ SCMP_SYS(sched_yield), ANY, "libc spin locks" },
	{ SCMP_SYS(exit), ANY, "a thread ends" },
	{ SCMP_SYS(exit_group), ANY, "the process ends (SHUTDOWN, fatal errors)" },
};

/* Refused on purpose; listed so the audit shows them. Everything unlisted is refused too. */
static const struct {
	int nr;
	const char *why;
} deny[] = {
	{ SCMP_SYS(openat), "no file system access: everything arrives as an fd" },
	{ SCMP_SYS(open), "no file system access" },
	{ SCMP_SYS(execve), "no new programs" },
	{ SCMP_SYS(execveat), "no new programs" },
	{ SCMP_SYS(clone), "no processes or threads after set-up" },
	{ SCMP_SYS(clone3), "no processes or threads after set-up" },
	{ SCMP_SYS(fork), "no processes" },
	{ SCMP_SYS(socket), "no new channels: only the control socket" },
	{ SCMP_SYS(connect), "no new channels" },
	{ SCMP_SYS(ptrace), "no inspection of other processes" },
	{ SCMP_SYS(process_vm_readv), "no access to other processes' memory" },
	{ SCMP_SYS(process_vm_writev), "no access to other processes' memory" },
	{ SCMP_SYS(kill), "no signals to other processes" },
	{ SCMP_SYS(mount), "no file system changes" },
	{ SCMP_SYS(unshare), "no namespace changes" },
	{ SCMP_SYS(setns), "no namespace changes" },
	{ SCMP_SYS(memfd_create), "no new memory objects: guest memory comes from the supervisor" },
	{ SCMP_SYS(personality), "READ_IMPLIES_EXEC would make PROT_READ mappings executable" },
	{ SCMP_SYS(pkey_mprotect), "mprotect without the PROT_EXEC rule" },
	{ SCMP_SYS(shmat), "SHM_EXEC maps executable memory; no SysV IPC anyway" },
	{ SCMP_SYS(rt_sigaction), "handlers are fixed before the filter" },
	{ SCMP_SYS(prctl), "no changes to the process's security state" },
	{ SCMP_SYS(sched_setaffinity), "threads stay on the partition's cores (set before exec)" },
	{ SCMP_SYS(sched_setscheduler), "no real-time priority to take a core with" },
	{ SCMP_SYS(bpf), "kernel attack surface" },
	{ SCMP_SYS(perf_event_open), "kernel attack surface" },
	{ SCMP_SYS(keyctl), "kernel attack surface" },
	{ SCMP_SYS(userfaultfd), "kernel attack surface" },
	{ SCMP_SYS(io_uring_setup), "kernel attack surface" },
};

/* The SIGSYS handler ends the process through this: a forbidden call that always kills. */
#define DEATH_SYSCALL SCMP_SYS(seccomp)

static int add_rule(scmp_filter_ctx ctx, const struct rule *r)
{
	switch (r->arg) {
	case ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
	case FD_CTL:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A0(SCMP_CMP_EQ, IPC_CTL_FD));
	case IOCTL_KVMRUN:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)KVM_RUN));
	case IOCTL_SREGS:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)KVM_GET_SREGS));
	case IOCTL_SLOT:
		return seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, r->nr, 1,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)KVM_SET_USER_MEMORY_REGION));
	case NO_EXEC_2:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case OWN_PID_0:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	case FUTEX_PLAIN:
		/* Rules for one system call are alternatives: any listed operation passes. The
		 * kernel reads op as an int: the mask ignores the upper half. */
		for (size_t i = 0; i < ARRAY_SIZE(futex_ops); i++) {
			int r2 = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
						  SCMP_A1(SCMP_CMP_MASKED_EQ,
							  0xffffffffU & ~(uint32_t)FUTEX_FLAGS,
							  (scmp_datum_t)futex_ops[i]));

			if (r2 < 0)
				return r2;
		}
		return 0;
	}
	return -EINVAL;
}

int vmm_seccomp_build(bool log_mode, scmp_filter_ctx *ret)
{
	/* Log mode: the same filter, only the default action differs (one code path). */
	scmp_filter_ctx ctx = seccomp_init(log_mode ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	int r;

	if (!ctx)
		return -ENOMEM;
	r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, DEATH_SYSCALL, 0);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(allow); i++)
		r = add_rule(ctx, &allow[i]);
	/* Every thread gets the filter at once (the vCPU threads already exist). */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	/*
	 * A system call of another ABI (int 0x80 for i386 on x86_64) has no table here: kill the
	 * whole process, in log mode too (logging would run it unfiltered). libseccomp's default
	 * kills only the calling thread, which would leave a VMM running with a vCPU missing.
	 */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}

static int report_fd = -1;

/* A forbidden system call: tell the supervisor which, then die by SIGSYS. Signal-safe. */
static void sigsys_handler(int sig, siginfo_t *si, void *uctx)
{
	struct {
		struct ipc_hdr hdr;
		struct ipc_fault f;
	} m = {
		.hdr = { .type = IPC_FAULT, .size_bytes = sizeof(struct ipc_fault) },
		.f = { .kind = IPC_FAULT_SECCOMP,
		       .fatal = 1,
		       .code = (uint32_t)si->si_syscall,
		       .addr = (uint64_t)si->si_syscall },
	};

	memcpy(m.f.msg, "forbidden system call", sizeof("forbidden system call"));
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (report_fd >= 0)
		sendmsg(report_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	syscall(DEATH_SYSCALL, 0, 0, NULL);
	_exit(128 + SIGSYS);
}

int vmm_seccomp_load(bool log_mode)
{
	struct sigaction sa = { .sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	int r;

	report_fd = IPC_CTL_FD;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	r = vmm_seccomp_build(log_mode, &ctx);
	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

static const char *name_of(int nr)
{
	char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s", n ? n : "?");
	free(n);
	return buf;
}

const char *vmm_syscall_name(int nr)
{
	return name_of(nr);
}

static const char *arg_text(enum arg_rule a)
{
	switch (a) {
	case ANY:
		return "";
	case FD_CTL:
		return "fd == 3 (the control socket)";
	case IOCTL_KVMRUN:
		return "request == KVM_RUN";
	case IOCTL_SREGS:
		return "request == KVM_GET_SREGS";
	case IOCTL_SLOT:
		return "request == KVM_SET_USER_MEMORY_REGION";
	case NO_EXEC_2:
		return "(prot & PROT_EXEC) == 0";
	case OWN_PID_0:
		return "tgid == own pid";
	case FUTEX_PLAIN:
		return "op: WAIT, WAKE, WAIT/WAKE_BITSET";
	}
	return "?";
}

/* "bpf:PATH": the raw program into a file (for seccomp-tools or bpf_dbg), not a terminal. */
static int export_bpf_file(scmp_filter_ctx ctx, const char *path)
{
	_cleanup_close_ int fd = -1;

	if (!*path)
		return -EINVAL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	return seccomp_export_bpf(ctx, fd);
}

int vmm_seccomp_audit(FILE *out, const char *format)
{
	scmp_filter_ctx ctx;
	int r;

	if (strcmp(format, "text") == 0) {
		fprintf(out, "mumu-vmm seccomp filter: one filter for all threads (TSYNC), loaded "
			     "after the VM is built\n");
		fprintf(out, "default action: TRAP -> report the call to the supervisor, then "
			     "KILL_PROCESS (SIGSYS); with --seccomp=log: LOG\n\nallowed:\n");
		for (size_t i = 0; i < ARRAY_SIZE(allow); i++)
			fprintf(out, "  %-16s %-32s %s\n", name_of(allow[i].nr),
				arg_text(allow[i].arg), allow[i].why);
		fprintf(out, "\nrefused on purpose (as is everything not allowed):\n");
		for (size_t i = 0; i < ARRAY_SIZE(deny); i++)
			fprintf(out, "  %-16s %s\n", name_of(deny[i].nr), deny[i].why);
		fprintf(out, "  %-16s %s\n", name_of(DEATH_SYSCALL),
			"always KILL_PROCESS: how the SIGSYS handler ends the VMM");
		fprintf(out, "  %-16s %s\n", "(other ABIs)",
			"int 0x80 and x32 calls: KILL_PROCESS, also in log mode");
		return 0;
	}
	if (strcmp(format, "pfc") != 0 && strcmp(format, "bpf") != 0 &&
	    strncmp(format, "bpf:", 4) != 0)
		return -EINVAL;
	r = vmm_seccomp_build(false, &ctx);
	if (r < 0)
		return r;
	fflush(out);
	if (strcmp(format, "pfc") == 0)
		r = seccomp_export_pfc(ctx, fileno(out));
	else if (strcmp(format, "bpf") == 0)
		r = seccomp_export_bpf(ctx, fileno(out));
	else
		r = export_bpf_file(ctx, format + 4);
	seccomp_release(ctx);
	return r;
}
