/* SPDX-License-Identifier: MIT */
/* The real VMM filter and jail in forked children: allowed arguments pass, altered ones die
 * by SIGSYS (Firecracker's pattern); the jail leaves no ids, caps, files or extra fds. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "seccomp/seccomp.h"
#include "vmm/vmm.h"

enum { SURVIVED = 42 };

/*
 * In a forked child: cmocka's handlers for fatal signals would longjmp back into the test
 * runner and run the remaining tests a second time; a crash must end the child.
 */
static void child_default_signals(void)
{
	const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
}

/* Run fn in a child under the filter; returns the wait status. */
static int under_filter(void (*fn)(void), bool log_mode)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int sv[2];

		child_default_signals();
		/* fd 3 is the control socket in a VMM: give the child one. */
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 || dup2(sv[0], 3) < 0)
			_exit(1);
		if (vmm_seccomp_load(log_mode) < 0)
			_exit(2);
		fn();
		syscall(SYS_exit_group, SURVIVED); /* not exit(): no atexit work under the filter */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_survives(void (*fn)(void))
{
	int st = under_filter(fn, false);

	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), SURVIVED);
}

static void assert_dies(void (*fn)(void))
{
	int st = under_filter(fn, false);

	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static int null_fd(void)
{
	return open("/dev/null", O_RDONLY);
}

static int devnull = -1;

static void ioctl_kvm_run(void)
{
	ioctl(devnull, KVM_RUN, 0); /* allowed: ENOTTY from /dev/null */
}
static void ioctl_tcgets(void)
{
	struct termios t;

	ioctl(devnull, TCGETS, &t);
}
static void ioctl_set_slot(void)
{
	struct kvm_userspace_memory_region r = { 0 };

	ioctl(devnull, KVM_SET_USER_MEMORY_REGION, &r); /* allowed: ENOTTY */
}
static void ioctl_set_sregs(void)
{
	struct kvm_sregs r = { 0 };

	ioctl(devnull, KVM_SET_SREGS, &r);
}
static void ioctl_get_regs(void)
{
	struct kvm_regs r;

	ioctl(devnull, KVM_GET_REGS, &r);
}
static void mmap_rw(void)
{
	munmap(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 4096);
}
static void mmap_exec(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	mprotect(p, 4096, PROT_READ | PROT_EXEC);
}
static void mprotect_rw(void)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	mprotect(p, 4096, PROT_READ | PROT_WRITE);
}
static void sendmsg_fd3(void)
{
	char c = 'x';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	sendmsg(3, &m, MSG_DONTWAIT);
}
static void sendmsg_fd4(void)
{
	char c = 'x';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	sendmsg(4, &m, MSG_DONTWAIT);
}
static void recvmsg_on(int fd)
{
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	recvmsg(fd, &m, MSG_DONTWAIT); /* allowed: EAGAIN, nothing was sent */
}
static void recvmsg_fd3(void)
{
	recvmsg_on(3);
}
static void recvmsg_fd4(void)
{
	recvmsg_on(4);
}
static uint32_t futex_word = 1;

static long futex_op(int op, uint32_t val)
{
	return syscall(SYS_futex, &futex_word, op, val, NULL, NULL, 0);
}
/* What libc does: waits that return at once (the word is not val), wakes with no waiter. */
static void futex_libc_ops(void)
{
	futex_op(FUTEX_WAIT_PRIVATE, 0);
	futex_op(FUTEX_WAKE_PRIVATE, 1);
	futex_op(FUTEX_WAIT, 0);
	futex_op(FUTEX_WAKE, 1);
	futex_op(FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME, 0);
	futex_op(FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 1);
}
static void futex_lock_pi(void)
{
	futex_op(FUTEX_LOCK_PI_PRIVATE, 0);
}
static void futex_cmp_requeue_pi(void)
{
	futex_op(FUTEX_CMP_REQUEUE_PI, 1);
}
static void futex_wake_op(void)
{
	futex_op(FUTEX_WAKE_OP_PRIVATE, 1);
}
static void tgkill_self(void)
{
	syscall(SYS_tgkill, getpid(), gettid(), 0);
}
static void tgkill_parent(void)
{
	syscall(SYS_tgkill, getppid(), getppid(), 0);
}
static void kill_parent(void)
{
	kill(getppid(), 0);
}
static void do_execve(void)
{
	char *argv[] = { "/bin/true", NULL };

	execve("/bin/true", argv, NULL);
}
static void do_open(void)
{
	open("/etc/hostname", O_RDONLY);
}
static void do_socket(void)
{
	socket(AF_INET, SOCK_DGRAM, 0);
}
static void do_ptrace(void)
{
	syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, getppid(), 0, 0);
}
static void do_mount(void)
{
	syscall(SYS_mount, "none", "/", "tmpfs", 0, NULL);
}
static void do_process_vm_readv(void)
{
	syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0);
}
static void do_clone(void)
{
	syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}
static void do_memfd(void)
{
	syscall(SYS_memfd_create, "x", 0);
}
static void do_sigaction(void)
{
	signal(SIGUSR1, SIG_IGN);
}
static void do_personality(void)
{
	personality(READ_IMPLIES_EXEC);
}
/* x32 ABI numbering (bit 30): not in the table, so the bad-arch action, in every mode. */
static void do_x32_getpid(void)
{
	syscall(0x40000000 | SYS_getpid);
}

static void test_ioctl(void **state)
{
	devnull = null_fd();
	assert_survives(ioctl_kvm_run);
	assert_survives(ioctl_set_slot);
	assert_dies(ioctl_set_sregs);
	assert_dies(ioctl_tcgets);
	assert_dies(ioctl_get_regs);
	close(devnull);
}

static void test_memory(void **state)
{
	assert_survives(mmap_rw);
	assert_survives(mprotect_rw);
	assert_dies(mmap_exec);
	assert_dies(mprotect_exec);
}

static void test_futex(void **state)
{
	assert_survives(futex_libc_ops);
	assert_dies(futex_lock_pi);
	assert_dies(futex_cmp_requeue_pi);
	assert_dies(futex_wake_op);
}

static void test_fds_and_signals(void **state)
{
	assert_survives(sendmsg_fd3);
	assert_dies(sendmsg_fd4);
	assert_survives(recvmsg_fd3);
	assert_dies(recvmsg_fd4);
	assert_survives(tgkill_self);
	assert_dies(tgkill_parent);
	assert_dies(kill_parent);
}

static void test_refused(void **state)
{
	void (*const fns[])(
	    void) = { do_execve,	   do_open,  do_socket, do_ptrace,    do_mount,
		      do_process_vm_readv, do_clone, do_memfd,	do_sigaction, do_personality };

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		assert_dies(fns[i]);
}

/* --seccomp=log: the same filter, and the same forbidden call does not kill. */
static void test_log_mode(void **state)
{
	int st = under_filter(do_socket, true);

	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), SURVIVED);
}

/* The value of key in /proc/PID/status, or /proc/PID/task/TID/status when tid > 0. */
static bool status_line(pid_t pid, pid_t tid, const char *key, char *val, size_t size)
{
	char path[96], line[256];
	FILE *f;
	bool found = false;

	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':') {
			snprintf(val, size, "%s",
				 line + strlen(key) + 1 + strspn(line + strlen(key) + 1, " \t"));
			val[strcspn(val, "\n")] = '\0';
			found = true;
		}
	fclose(f);
	return found;
}

/* Another ABI has no table to log against: it kills the process even in log mode. */
static void test_other_abi(void **state)
{
	int st = under_filter(do_x32_getpid, true);

	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = under_filter(do_x32_getpid, false);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

/*
 * The VMM's situation: threads exist before the filter (TSYNC must reach them), and a
 * forbidden call from one of them ends the whole process, not just that thread.
 */
enum thread_call { CALL_SOCKET, CALL_I386, CALL_X32 };

static int gate[2] = { -1, -1 };
static int started[2] = { -1, -1 };

static void *late_caller(void *arg)
{
	enum thread_call call = (enum thread_call)(intptr_t)arg;
	char c;

	/* Like a vCPU thread at the VMM's barrier: libc's thread start-up (rseq,
	 * set_robust_list) is over before the filter exists. */
	if (write(started[1], "s", 1) != 1 || read(gate[0], &c, 1) != 1)
		return NULL;
	if (call == CALL_SOCKET) {
		do_socket();
	} else if (call == CALL_X32) {
		do_x32_getpid();
	} else {
		long ret;

		/* i386 getpid (20) through the 32-bit entry. */
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
		(void)ret;
	}
	return NULL;
}

/* Fork a child whose second thread makes call after the filter is loaded; returns status. */
static int thread_under_filter(enum thread_call call, bool log_mode, bool check_status)
{
	int ready[2], st;
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(pipe(started), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t t;

		child_default_signals();
		if (pthread_create(&t, NULL, late_caller, (void *)(intptr_t)call) != 0 ||
		    read(started[0], &c, 1) != 1 || vmm_seccomp_load(log_mode) < 0)
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		pthread_join(t, NULL);
		syscall(SYS_exit_group, SURVIVED);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	if (check_status) {
		char path[64], v[64];
		int threads = 0;
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		d = opendir(path);
		assert_non_null(d);
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				assert_true(
				    status_line(pid, atoi(e->d_name), "Seccomp", v, sizeof(v)));
				assert_string_equal(v, "2");
				threads++;
			}
		closedir(d);
		assert_int_equal(threads, 2);
	}
	assert_int_equal(write(gate[1], "g", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(ready[0]);
	close(gate[0]);
	close(gate[1]);
	close(started[0]);
	close(started[1]);
	return st;
}

static void test_threads(void **state)
{
	int st = thread_under_filter(CALL_SOCKET, false, true);

	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = thread_under_filter(CALL_X32, true, false);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

/* int 0x80 from a vCPU-like thread: the whole process dies (the kernel may lack ia32). */
static void test_i386_from_thread(void **state)
{
	int st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		long ret;

		child_default_signals();
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
		_exit(ret > 0 ? SURVIVED : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != SURVIVED) {
		fprintf(stderr,
			"SKIPPED: this kernel runs no i386 system calls (ia32 emulation off)\n");
		skip();
	}
	st = thread_under_filter(CALL_I386, true, false);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

/* The audit names every rule, its arguments and what is refused; the exports work. */
static void test_audit(void **state)
{
	char *text = NULL, bpf_path[] = "/tmp/mumu-bpf-XXXXXX", fmt[64];
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	struct stat sb;
	int fd;

	assert_non_null(f);
	assert_int_equal(vmm_seccomp_audit(f, "text"), 0);
	fclose(f);
	for (const char *const *w =
		 (const char *const[]){ "ioctl", "request == KVM_RUN", "fd == 3",
					"(prot & PROT_EXEC) == 0", "execve", "openat", "ptrace",
					"personality", "(other ABIs)", "op: WAIT", NULL };
	     *w; w++)
		if (!strstr(text, *w))
			fail_msg("the audit text lacks '%s'", *w);
	free(text);
	assert_int_equal(vmm_seccomp_audit(stdout, "nonsense"), -EINVAL);
	assert_int_equal(vmm_seccomp_audit(stdout, "bpf:"), -EINVAL);
	fd = mkstemp(bpf_path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(fmt, sizeof(fmt), "bpf:%s", bpf_path);
	assert_int_equal(vmm_seccomp_audit(stdout, fmt), 0);
	assert_int_equal(stat(bpf_path, &sb), 0);
	assert_true(sb.st_size > 0 && sb.st_size % 8 == 0); /* struct sock_filter: 8 bytes */
	unlink(bpf_path);
	assert_string_equal(vmm_syscall_name(SCMP_SYS(socket)), "socket");
	assert_string_equal(vmm_syscall_name(100000), "?");
}

/* The SIGSYS reporter names the call on fd 3 before the process dies. */
static void test_report(void **state)
{
	int sv[2], st;
	pid_t pid;
	uint8_t buf[IPC_MSG_MAX];
	struct ipc_fault f;
	uint32_t type;
	size_t size;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_default_signals();
		dup2(sv[1], 3);
		if (vmm_seccomp_load(false) < 0)
			_exit(2);
		do_socket();
		_exit(SURVIVED);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	assert_int_equal(ipc_recv(sv[0], buf, &type, &size, NULL, 0, NULL), 0);
	assert_int_equal(type, IPC_FAULT);
	memcpy(&f, buf, sizeof(f));
	assert_int_equal(f.kind, IPC_FAULT_SECCOMP);
	assert_string_equal(vmm_syscall_name((int)f.code), "socket");
	close(sv[0]);
	close(sv[1]);
}

/* The whole jail, as a VMM enters it; checked from outside through /proc. */
static void test_jail(void **state)
{
	struct ipc_config cfg = { .uid = 65534, .gid = 65534 };
	int ready[2], go[2], extra;
	char v[128], c;
	pid_t pid;
	struct stat root, child_root;
	int st;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIPPED: the jail test needs root\n");
		skip();
	}
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	extra = null_fd(); /* must be closed by the jail */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int keep[] = { 0, 1, 2, ready[1], go[0] };
		const char *step;

		child_default_signals();
		if (vmm_jail_enter(&cfg, keep, 5, &step) < 0 || vmm_seccomp_load(false) < 0)
			_exit(3);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(4);
		syscall(SYS_exit_group, SURVIVED);
	}
	close(ready[1]);
	close(go[0]);
	close(extra);
	assert_int_equal(read(ready[0], &c, 1), 1);

	assert_true(status_line(pid, 0, "Seccomp", v, sizeof(v)));
	assert_string_equal(v, "2");
	assert_true(status_line(pid, 0, "NoNewPrivs", v, sizeof(v)));
	assert_string_equal(v, "1");
	for (const char *const *k =
		 (const char *const[]){ "CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb", NULL };
	     *k; k++) {
		assert_true(status_line(pid, 0, *k, v, sizeof(v)));
		assert_string_equal(v, "0000000000000000");
	}
	assert_true(status_line(pid, 0, "Uid", v, sizeof(v)));
	assert_string_equal(v, "65534\t65534\t65534\t65534");
	assert_true(status_line(pid, 0, "Groups", v, sizeof(v)));
	assert_string_equal(v, "");
	/* Its root is not the host's, and it is empty. */
	snprintf(v, sizeof(v), "/proc/%d/root/", pid);
	assert_int_equal(stat("/", &root), 0);
	assert_int_equal(stat(v, &child_root), 0);
	assert_true(root.st_dev != child_root.st_dev || root.st_ino != child_root.st_ino);
	snprintf(v, sizeof(v), "/proc/%d/root/etc", pid);
	assert_int_equal(access(v, F_OK), -1);
	/* Exactly the kept fds. */
	for (int fd = 0; fd < 64; fd++) {
		snprintf(v, sizeof(v), "/proc/%d/fd/%d", pid, fd);
		bool open_ = access(v, F_OK) == 0;
		bool kept = fd <= 2 || fd == ready[1] || fd == go[0];

		assert_true(open_ == kept);
	}
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), SURVIVED);
	close(ready[0]);
	close(go[1]);
}

/* What shared regions rely on: a read-only re-opened memfd never becomes writable. */
static void test_readonly_memfd(void **state)
{
	int fd = memfd_create("t", MFD_ALLOW_SEALING), ro;
	char path[64];
	void *p;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	assert_true(ro >= 0);
	assert_true(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED);
	assert_int_equal(errno, EACCES);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p, 4096, PROT_READ | PROT_WRITE), -1);
	assert_int_equal(errno, EACCES);
	munmap(p, 4096);
	close(ro);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ioctl),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_futex),
		cmocka_unit_test(test_fds_and_signals),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_log_mode),
		cmocka_unit_test(test_other_abi),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_i386_from_thread),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_jail),
		cmocka_unit_test(test_readonly_memfd),
	};

#ifdef __SANITIZE_ADDRESS__
	/* The sanitizer runtime makes system calls of its own that no VMM makes (the VMM is
	 * never built with it): only the tests that load no filter run here; the plain build
	 * runs them all. */
	const struct CMUnitTest unfiltered[] = {
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_readonly_memfd),
	};

	(void)tests;
	fprintf(stderr, "SKIPPED: the tests that load the seccomp filter do not run under "
			"AddressSanitizer (the plain build runs them)\n");
	return cmocka_run_group_tests(unfiltered, NULL, NULL);
#endif
	return cmocka_run_group_tests(tests, NULL, NULL);
}
