/* SPDX-License-Identifier: MIT */
/* Test builds only (MUMU_TEST_HOOKS): make the VMM attempt what a compromised one would, so
 * that the end-to-end tests can show the sandbox refuses it. Compiled out of release builds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
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
#include "vmm/vmm.h"

bool vmm_test_ignore_window_end;

#ifdef MUMU_TEST_HOOKS
static void attempt(struct vmm *vmm, const char *what)
{
	long r = 0;

	log_info("test hook: attempting '%s'", what);
	if (strcmp(what, "ignore_window_end") == 0) {
		vmm_test_ignore_window_end = true;
		return;
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
	} else if (strcmp(what, "ioctl") == 0) {
		struct kvm_regs regs;

		r = ioctl(vmm->vcpu[0].fd, KVM_GET_REGS, &regs);
	} else if (strcmp(what, "mprotect_ro") == 0) {
		/* The control page comes from a read-only fd: the kernel refuses a writable map. */
		r = mprotect((void *)vmm->ctl, MUMU_PAGE_BYTES, PROT_READ | PROT_WRITE);
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
