/* SPDX-License-Identifier: MIT */
/* Confinement of a VMM process, in the order the kernel requires (docs/security.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/vmm.h"

/* Close every fd but those in keep[] (sorted or not). */
static int close_all_but(const int *keep, size_t n_keep)
{
	int max = 0;

	for (size_t i = 0; i < n_keep; i++)
		if (keep[i] > max)
			max = keep[i];
	for (int fd = 0; fd <= max + 1; fd++) {
		bool wanted = false;

		for (size_t i = 0; i < n_keep; i++)
			wanted |= keep[i] == fd;
		if (!wanted && fd <= max)
			close(fd);
	}
	return close_range((unsigned)max + 1, ~0U, 0) < 0 ? -errno : max + 1;
}

/* One line into a /proc/self file (uid_map, gid_map, setgroups). */
static int write_proc_self(const char *name, const char *line)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write(fd, line, strlen(line)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/*
 * Without root: a user namespace of the VMM's own, in which it holds the capabilities the
 * other namespaces and the empty root need. Only its own ids are mapped (to themselves), so
 * it can never become anybody else; setgroups is denied, so it cannot drop a group to get
 * past a file's group permission.
 */
static int user_namespace(uint32_t uid, uint32_t gid)
{
	char line[32];
	int r;

	if (unshare(CLONE_NEWUSER) < 0)
		return -errno;
	if ((r = write_proc_self("setgroups", "deny")) < 0)
		return r;
	snprintf(line, sizeof(line), "%u %u 1", uid, uid);
	if ((r = write_proc_self("uid_map", line)) < 0)
		return r;
	snprintf(line, sizeof(line), "%u %u 1", gid, gid);
	return write_proc_self("gid_map", line);
}

/* An empty, read-only tmpfs becomes the root; the host's file system is detached. */
static int empty_root(void)
{
	/* Nothing we mount may propagate back to the host's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (mount("mumu-empty", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,nr_inodes=2,mode=0555") < 0)
		return -errno;
	if (chdir("/tmp") < 0)
		return -errno;
	/* pivot_root(".", "."): the old root is stacked on the new one, then detached. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	if (umount2(".", MNT_DETACH) < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return -errno;
	return 0;
}

static int set_limit(int resource, rlim_t value)
{
	struct rlimit rl = { value, value };

	return setrlimit(resource, &rl) < 0 ? -errno : 0;
}

int vmm_jail_enter(const struct ipc_config *cfg, const int *keep_fds, size_t n_keep,
		   const char **ret_step)
{
	cap_t caps;
	int max_fd, r;

	/* 1. Only the fds the VMM needs: its VM, vCPUs, eventfds, control socket, stdio. */
	*ret_step = "close fds";
	max_fd = close_all_but(keep_fds, n_keep);
	if (max_fd < 0)
		return max_fd;
	/* 2. Namespaces, while we still have CAP_SYS_ADMIN and are single-threaded: a mount
	 *    namespace for the empty root; no network, no SysV IPC, own hostname. A PID
	 *    namespace would only apply to children, and the VMM may not have any. */
	if (cfg->flags & IPC_CFG_USERNS) {
		*ret_step = "user namespace";
		r = user_namespace(getuid(), getgid());
		if (r < 0)
			return r;
	}
	*ret_step = "unshare";
	if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		return -errno;
	/* 3. A root that holds nothing: no host file system, no /proc of anybody. */
	*ret_step = "empty root";
	r = empty_root();
	if (r < 0)
		return r;
	/* 4. Limits: no new fds beyond those held, no core dumps, no locked memory. (Not
	 *    RLIMIT_FSIZE: stderr may be a file, and the VMM can open no other.) */
	*ret_step = "rlimits";
	if ((r = set_limit(RLIMIT_NOFILE, (rlim_t)max_fd)) < 0 ||
	    (r = set_limit(RLIMIT_CORE, 0)) < 0 || (r = set_limit(RLIMIT_MEMLOCK, 0)) < 0)
		return r;
	/* 5. The bounding set needs CAP_SETPCAP to shrink: empty it while we are still root. */
	*ret_step = "bounding set";
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	/* 6. Unprivileged ids, groups first (setgroups needs CAP_SETGID; in a user namespace
	 *    it is denied, and the ids are the supervisor's, the only ones mapped). */
	*ret_step = "ids";
	if ((!(cfg->flags & IPC_CFG_USERNS) && setgroups(0, NULL) < 0) ||
	    setresgid(cfg->gid, cfg->gid, cfg->gid) < 0 ||
	    setresuid(cfg->uid, cfg->uid, cfg->uid) < 0)
		return -errno;
	/* 7. No capabilities left in any set: effective, permitted, inheritable, ambient. */
	*ret_step = "capabilities";
	caps = cap_init();
	if (!caps)
		return -ENOMEM;
	r = cap_set_proc(caps);
	cap_free(caps);
	if (r < 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	/* 8. Die with the supervisor. Set after the id change, which clears it. */
	*ret_step = "parent death signal";
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -errno;
	if (getppid() == 1)
		return -ESRCH; /* the supervisor died before we asked */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		return -errno;
	/* 9. No privilege can be gained again (required for seccomp as non-root). */
	*ret_step = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* The seccomp filter comes last, once the vCPU threads exist (vmm_seccomp_load). */
	return 0;
}

int vmm_sandbox_minimal(void)
{
	/* Without the sandbox (development only) the VMM still dies with its supervisor. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -errno;
	return getppid() == 1 ? -ESRCH : 0;
}
