/* SPDX-License-Identifier: MIT */
/* A partition's resources on the supervisor side, and the fork + exec of its VMM. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "supervisor/partition.h"

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static int memfd_sized(const char *name, uint64_t size_bytes)
{
	_cleanup_close_ int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size_bytes) < 0)
		return -errno;
	return take_fd(&fd);
}

static int write_all(int fd, const void *buf, size_t size, off_t off)
{
	while (size > 0) {
		ssize_t n = pwrite(fd, buf, size, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (const char *)buf + n;
		size -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * What the opened image must be, checked on the fd itself (the path may have changed since
 * the policy looked): a regular file on a real file system (not procfs, sysfs: their sizes
 * lie), readable by anyone (a guest image is no secret: /etc/shadow is not one), of the size
 * the policy checked against the partition's RAM.
 */
static int check_image(const struct sup_partition *p, int fd)
{
	struct statfs fs;
	struct stat st;

	if (fstat(fd, &st) < 0 || fstatfs(fd, &fs) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	if (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC)
		return -EBADFD;
	if (!(st.st_mode & S_IROTH))
		return -EACCES;
	if ((uint64_t)st.st_size != p->pol->binary_bytes)
		return -ESTALE; /* changed since the policy checked it */
	return 0;
}

/* Copy the guest binary into the image memfd (kept pristine for restarts). */
static int load_image(struct sup_partition *p)
{
	/* O_NONBLOCK: a FIFO swapped in for the file must not block the open. */
	_cleanup_close_ int in =
	    open(p->pol->binary_resolved, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char buf[65536];
	off_t off = 0;
	int r;

	if (in < 0)
		return -errno;
	r = check_image(p, in);
	if (r < 0) {
		log_error("partition '%s': the image '%s' %s", p->pol->name,
			  p->pol->binary_resolved,
			  r == -EBADFD	 ? "is not a regular file on a disk (a FIFO, device, "
					   "socket, or a file of /proc or /sys)"
			  : r == -EACCES ? "is not readable by others: a guest image is no secret "
					   "(chmod o+r it)"
			  : r == -ESTALE ? "changed size since the config was checked"
					 : strerror(-r));
		return r;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if ((uint64_t)off + (uint64_t)n > p->pol->binary_bytes)
			return -EFBIG; /* the file grew since the policy checked it */
		r = write_all(p->image_fd, buf, (size_t)n, off);
		if (r < 0)
			return r;
		off += n;
	}
	p->image_bytes = (uint64_t)off;
	return off > 0 ? 0 : -ENOEXEC;
}

int sup_partition_load_ram(struct sup_partition *p)
{
	char buf[65536];
	off_t off = 0;
	int r;

	/* Fresh zeroed RAM (cold start): punch the old contents out, then copy the image. */
	if (fallocate(p->ram_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)p->pol->memory_bytes) < 0)
		return -errno;
	while ((uint64_t)off < p->image_bytes) {
		ssize_t n = pread(p->image_fd, buf, sizeof(buf), off);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		r = write_all(p->ram_fd, buf, (size_t)n, (off_t)MUMU_USER_GPA + off);
		if (r < 0)
			return r;
		off += n;
	}
	return 0;
}

int sup_partition_init(struct sup_partition *p, const struct pol_system *sys, size_t index)
{
	const struct pol_partition *pol = &sys->partitions[index];
	pthread_mutexattr_t attr;
	void *m;
	int r;

	*p = (struct sup_partition){ .pol = pol, .index = index, .sock = -1, .pidfd = -1 };
	/* Priority inheritance: a real-time core thread never waits behind the main thread. */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&p->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	p->ram_fd = p->image_fd = p->ctl_fd = p->status_fd = -1;
	for (size_t i = 0; i < MUMU_VCPU_MAX; i++)
		p->go_fd[i] = p->done_fd[i] = -1;

	r = memfd_sized("mumu-ram", pol->memory_bytes);
	if (r < 0)
		goto fail;
	p->ram_fd = r;
	r = memfd_sized("mumu-image", pol->binary_bytes);
	if (r < 0)
		goto fail;
	p->image_fd = r;
	r = load_image(p);
	if (r < 0)
		goto fail;
	r = sup_partition_load_ram(p);
	if (r < 0)
		goto fail;
	if (fcntl(p->ram_fd, F_ADD_SEALS, SEALS) < 0 ||
	    fcntl(p->image_fd, F_ADD_SEALS, SEALS | F_SEAL_WRITE) < 0) {
		r = -errno;
		goto fail;
	}

	r = memfd_sized("mumu-ctl", MUMU_PAGE_BYTES);
	if (r < 0)
		goto fail;
	p->ctl_fd = r;
	r = memfd_sized("mumu-status", MUMU_PAGE_BYTES);
	if (r < 0)
		goto fail;
	p->status_fd = r;
	if (fcntl(p->ctl_fd, F_ADD_SEALS, SEALS) < 0 ||
	    fcntl(p->status_fd, F_ADD_SEALS, SEALS) < 0) {
		r = -errno;
		goto fail;
	}
	m = mmap(NULL, MUMU_PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, p->ctl_fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	p->ctl = m;
	m = mmap(NULL, MUMU_PAGE_BYTES, PROT_READ, MAP_SHARED, p->status_fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	p->status = m;
	p->ctl->magic = IPC_CTL_MAGIC;
	p->ctl->n_vcpus = (uint32_t)pol->n_cores;
	p->ctl->mode = MUMU_MODE_COLD_START; /* until the guest says NORMAL (SET_MODE) */
	p->ctl->start_condition = MUMU_START_NORMAL;

	for (size_t i = 0; i < pol->n_cores; i++) {
		p->go_fd[i] = eventfd(0, EFD_CLOEXEC);
		p->done_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->go_fd[i] < 0 || p->done_fd[i] < 0) {
			r = -errno;
			goto fail;
		}
	}
	return 0;
fail:
	sup_partition_fini(p);
	return r;
}

uint64_t sup_vmm_as_bytes(const struct pol_partition *pol, const struct pol_region *regions,
			  size_t n_regions)
{
	uint64_t bytes = pol->memory_bytes + SUP_VMM_AS_OVERHEAD_BYTES;

	for (size_t i = 0; i < n_regions; i++)
		bytes += regions[i].region.size_bytes;
	return bytes;
}

/* The control page again, read-only: the VMM can never write what the supervisor decides. */
static int reopen_ro(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* The physical cores of the partition: where its VMM, and all work for it, runs. */
static void partition_cpus(const struct pol_partition *pol, cpu_set_t *ret_cpus)
{
	CPU_ZERO(ret_cpus);
	for (size_t i = 0; i < pol->n_cores; i++)
		CPU_SET(pol->cores[i].physical_core_id, ret_cpus);
}

static void child_exec(const char *vmm_path, const struct pol_partition *pol, int sock,
		       uint64_t as_bytes) __attribute__((noreturn));

static void child_exec(const char *vmm_path, const struct pol_partition *pol, int sock,
		       uint64_t as_bytes)
{
	struct rlimit as = { .rlim_cur = as_bytes, .rlim_max = as_bytes };
	extern char **environ;
	char *env[16];
	size_t n = 0;
	cpu_set_t cpus;
	sigset_t none;
	int null;

	/* The whole VMM, from here and its start-up on, runs on its partition's cores only (its
	 * vCPU threads pin themselves to one each): it never takes time on another's core. The
	 * parent forked on them already (sup_partition_spawn); this holds if it could not. */
	partition_cpus(pol, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) < 0)
		_exit(127);
	/* The parent's main thread runs at SCHED_IDLE once the schedule runs: the VMM and its
	 * vCPU threads run at the normal policy. */
	if (sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ 0 }) < 0)
		_exit(127);
	/* Its address space fits its partition (sup_vmm_as_bytes): a compromised VMM cannot
	 * take the host's memory, whatever it maps. */
	if (setrlimit(RLIMIT_AS, &as) < 0)
		_exit(127);
	/* Out of the terminal's reach: Ctrl-C, Ctrl-\ and Ctrl-Z go to the foreground process
	 * group, which is the supervisor's; it stops the VMMs in order (they still die with it:
	 * PR_SET_PDEATHSIG in the sandbox). */
	if (setsid() < 0)
		_exit(127);
	/* A clean environment: only the test hooks' variables pass (test builds use them). */
	for (char **e = environ; *e && n < ARRAY_SIZE(env) - 1; e++)
		if (strncmp(*e, "MUMU_TEST_", 10) == 0)
			env[n++] = *e;
	env[n] = NULL;
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0 && null != STDIN_FILENO)
		dup2(null, STDIN_FILENO);

	/* Only the control socket survives exec, as fd 3 (IPC_CTL_FD). */
	if (sock == IPC_CTL_FD) {
		fcntl(sock, F_SETFD, 0);
	} else if (dup2(sock, IPC_CTL_FD) < 0) {
		_exit(127);
	}
	close_range(IPC_CTL_FD + 1, ~0U, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execle(vmm_path, vmm_path, pol->name, (char *)NULL, env);
	_exit(127);
}

int sup_objects_create(const struct pol_system *sys, int **ret_fds)
{
	size_t n = pol_object_count(sys);
	int *fds = calloc(n ? n : 1, sizeof(*fds));
	int r = 0;

	if (!fds)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = memfd_sized("mumu-shared", pol_object_bytes(sys, i));
		if (r >= 0) {
			fds[i] = r;
			r = fcntl(fds[i], F_ADD_SEALS, SEALS) < 0 ? -errno : 0;
		}
	}
	if (r < 0) {
		sup_objects_close(sys, fds);
		return r;
	}
	*ret_fds = fds;
	return 0;
}

void sup_objects_close(const struct pol_system *sys, int *fds)
{
	if (!fds)
		return;
	for (size_t i = 0; i < pol_object_count(sys); i++)
		closep(&fds[i]);
	free(fds);
}

static int spawn(struct sup_partition *p, const struct pol_system *sys, const int *objects,
		 const char *vmm_path, int kvm_fd, uint32_t flags, uint32_t uid, uint32_t gid)
{
	const struct pol_partition *pol = p->pol;
	struct pol_region regions[MUMU_REGION_MAX];
	struct ipc_config cfg = { 0 };
	int fds[IPC_FDS_MAX], ro_fds[MUMU_REGION_MAX];
	size_t n = 0, n_regions;
	int sv[2], ro = -1, r;
	pid_t pid;

	n_regions = pol_partition_regions(sys, p->index, regions, MUMU_REGION_MAX);
	if (n_regions > MUMU_REGION_MAX)
		return -E2BIG; /* the policy checks refuse such a config */
	for (size_t i = 0; i < n_regions; i++)
		ro_fds[i] = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0)
		child_exec(vmm_path, pol, sv[1], sup_vmm_as_bytes(pol, regions, n_regions));
	close(sv[1]);
	p->sock = sv[0];
	r = (int)syscall(SYS_pidfd_open, pid, 0);
	if (r < 0) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(p->sock);
		p->sock = -1;
		return r;
	}
	pthread_mutex_lock(&p->lock);
	p->pid = pid;
	p->pidfd = r;
	memset(p->vcpu_tid, 0, sizeof(p->vcpu_tid)); /* known at READY */
	if (clock_getcpuclockid(pid, &p->cpu_clock) != 0)
		p->cpu_clock = -1;
	p->generation++;
	__atomic_store_n(&p->stopped_by_sup, false, __ATOMIC_RELEASE);
	p->overruns_seen = p->overruns; /* those were the old VMM's */
	p->overrun_since_ns = 0;
	pthread_mutex_unlock(&p->lock);
	fcntl(p->sock, F_SETFL, O_NONBLOCK);
	__atomic_store_n(&p->state, SUP_PART_STARTING, __ATOMIC_RELEASE);

	snprintf(cfg.partition_name, sizeof(cfg.partition_name), "%s", pol->name);
	snprintf(cfg.module_name, sizeof(cfg.module_name), "%s", sys->name);
	cfg.partition_id = pol->id;
	cfg.n_vcpus = (uint32_t)pol->n_cores;
	for (size_t i = 0; i < pol->n_cores; i++)
		cfg.physical_core_id[i] = pol->cores[i].physical_core_id;
	cfg.ram_bytes = pol->memory_bytes;
	cfg.image_bytes = p->image_bytes;
	cfg.flags = flags | (pol->set_module_schedule ? IPC_CFG_SET_SCHEDULE : 0);
	cfg.uid = uid;
	cfg.gid = gid;
	cfg.period_ns = pol->period_ns;
	cfg.duration_ns = pol->duration_ns;
	ro = reopen_ro(p->ctl_fd);
	if (ro < 0) {
		r = -errno;
		goto fail;
	}
	fds[n++] = kvm_fd;
	fds[n++] = p->ram_fd;
	fds[n++] = ro;
	fds[n++] = p->status_fd;
	for (size_t i = 0; i < pol->n_cores; i++)
		fds[n++] = p->go_fd[i];
	for (size_t i = 0; i < pol->n_cores; i++)
		fds[n++] = p->done_fd[i];
	/* A reader's memfd is re-opened O_RDONLY: the kernel refuses it a writable mapping. */
	cfg.n_regions = (uint32_t)n_regions;
	r = 0;
	for (size_t i = 0; i < n_regions && r >= 0; i++) {
		int obj = objects[regions[i].object];

		cfg.regions[i] = regions[i].region;
		if (regions[i].region.access != MUMU_ACCESS_WRITE)
			obj = ro_fds[i] = reopen_ro(obj);
		r = obj < 0 ? -errno : 0;
		fds[n++] = obj;
	}
	/* Its batons, in the order of their from_idx/to_idx (sup_batons_plan counts so). */
	for (size_t i = 0; i < p->n_batons; i++) {
		const struct sup_baton *b = &p->batons[i];

		if (b->from == p->index)
			cfg.batons[cfg.n_batons++] =
			    (struct ipc_baton){ .vcpu = b->from_vcpu, .out = 1 };
		else if (b->to == p->index)
			cfg.batons[cfg.n_batons++] =
			    (struct ipc_baton){ .vcpu = b->to_vcpu, .out = 0 };
		else
			continue;
		fds[n++] = b->fd;
	}
	if (r >= 0)
		r = ipc_send(p->sock, IPC_CONFIG, &cfg, sizeof(cfg), fds, n);
	close(ro);
	for (size_t i = 0; i < n_regions; i++)
		closep(&ro_fds[i]);
	if (r < 0)
		goto fail;
	return 0;
fail:
	sup_partition_kill(p, 0);
	return r;
}

int sup_partition_spawn(struct sup_partition *p, const struct pol_system *sys, const int *objects,
			const char *vmm_path, int kvm_fd, uint32_t flags, uint32_t uid,
			uint32_t gid)
{
	cpu_set_t saved, cpus;
	bool moved;
	int r;

	/* The spawn's own work (the fork, the child until exec, the configuration) runs on the
	 * partition's cores like the VMM it starts: a restart takes no time on another core. */
	partition_cpus(p->pol, &cpus);
	moved = sched_getaffinity(0, sizeof(saved), &saved) == 0 &&
		sched_setaffinity(0, sizeof(cpus), &cpus) == 0;
	r = spawn(p, sys, objects, vmm_path, kvm_fd, flags, uid, gid);
	if (moved)
		sched_setaffinity(0, sizeof(saved), &saved);
	return r;
}

static bool signal_locked(struct sup_partition *p, int sig)
{
	return p->pidfd >= 0 && syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) == 0;
}

bool sup_partition_stop(struct sup_partition *p, uint32_t generation, uint32_t vcpu)
{
	bool sent = false;

	pthread_mutex_lock(&p->lock);
	if (p->generation == generation && !p->stopped_by_sup) {
		/* The pid is not reaped (under the lock): tgkill finds the thread in that process
		 * or nothing, never a reused id elsewhere. */
		if (vcpu < MUMU_VCPU_MAX && p->vcpu_tid[vcpu] > 0 && p->pid > 0)
			syscall(SYS_tgkill, p->pid, p->vcpu_tid[vcpu], SIGSTOP);
		sent = signal_locked(p, SIGSTOP);
		__atomic_store_n(&p->stopped_by_sup, sent, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&p->lock);
	return sent;
}

bool sup_partition_resume(struct sup_partition *p)
{
	bool sent = false;

	if (!__atomic_load_n(&p->stopped_by_sup, __ATOMIC_ACQUIRE))
		return false; /* the common case, without the lock */
	pthread_mutex_lock(&p->lock);
	if (p->stopped_by_sup) {
		sent = signal_locked(p, SIGCONT);
		__atomic_store_n(&p->stopped_by_sup, false, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&p->lock);
	return sent;
}

bool sup_partition_cpu_ns(struct sup_partition *p, uint32_t generation, uint64_t *ret_ns)
{
	struct timespec ts;
	bool ok;

	pthread_mutex_lock(&p->lock); /* the pid cannot be reaped and reused meanwhile */
	ok = p->generation == generation && p->pid > 0 && p->cpu_clock != (clockid_t)-1 &&
	     clock_gettime(p->cpu_clock, &ts) == 0;
	pthread_mutex_unlock(&p->lock);
	if (ok)
		*ret_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	return ok;
}

int sup_partition_threads(struct sup_partition *p)
{
	struct sched_param prio = { .sched_priority = SUP_VCPU_PRIORITY };
	uint32_t found = 0, all = (1U << p->pol->n_cores) - 1, rt = 0;
	pid_t tid[MUMU_VCPU_MAX] = { 0 };
	char path[64];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	d = opendir(path);
	if (!d)
		return -ESRCH;
	while ((e = readdir(d)) != NULL) {
		char comm[32] = "";
		unsigned v;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/comm", (int)p->pid, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		if (sscanf(comm, "vcpu%u", &v) != 1 || v >= p->pol->n_cores || (found & (1U << v)))
			continue;
		found |= 1U << v;
		tid[v] = atoi(e->d_name);
		if ((p->rt_vcpus & (1U << v)) && sched_setscheduler(tid[v], SCHED_FIFO, &prio) == 0)
			rt |= 1U << v;
	}
	closedir(d);
	pthread_mutex_lock(&p->lock);
	memcpy(p->vcpu_tid, tid, sizeof(p->vcpu_tid));
	pthread_mutex_unlock(&p->lock);
	return found == all && rt == p->rt_vcpus ? 0 : -ESRCH;
}

void sup_partition_ask_exit(struct sup_partition *p)
{
	__atomic_store_n(&p->state, SUP_PART_STOPPED, __ATOMIC_RELEASE);
	if (p->pid <= 0)
		return;
	if (p->sock >= 0)
		ipc_send(p->sock, IPC_SHUTDOWN, NULL, 0, NULL, 0);
	pthread_mutex_lock(&p->lock); /* enforcement may have stopped it: it must run to exit */
	/*
	 * Its end (the VM's teardown, its memory freed) runs in its own threads: below every
	 * window, not at a real-time vCPU's priority in the next partition's (it took 0.2-0.7 ms
	 * of a neighbour's 45 ms window at each restart). tgkill(0) first: the thread is still
	 * that process's, its id not reused.
	 */
	for (size_t i = 0; i < MUMU_VCPU_MAX && p->pid > 0; i++)
		if (p->vcpu_tid[i] > 0 && syscall(SYS_tgkill, p->pid, p->vcpu_tid[i], 0) == 0)
			sched_setscheduler(p->vcpu_tid[i], SCHED_IDLE, &(struct sched_param){ 0 });
	if (p->pid > 0)
		sched_setscheduler(p->pid, SCHED_IDLE, &(struct sched_param){ 0 });
	signal_locked(p, SIGCONT);
	__atomic_store_n(&p->stopped_by_sup, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->lock);
}

int sup_partition_kill(struct sup_partition *p, uint64_t timeout_ns)
{
	int pidfd, status = 0;
	pid_t pid;

	sup_partition_ask_exit(p);
	pthread_mutex_lock(&p->lock); /* from here on no core thread can signal it */
	pid = p->pid;
	pidfd = p->pidfd;
	p->pid = 0;
	p->pidfd = -1;
	memset(p->vcpu_tid, 0, sizeof(p->vcpu_tid));
	pthread_mutex_unlock(&p->lock);
	if (pid > 0) {
		if (timeout_ns > 0) {
			struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

			poll(&pfd, 1, (int)(timeout_ns / 1000000));
		}
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		waitpid(pid, &status, 0);
	}
	if (p->sock >= 0)
		close(p->sock);
	if (pidfd >= 0)
		close(pidfd);
	p->sock = -1;
	return status;
}

void sup_partition_fini(struct sup_partition *p)
{
	if (!p->pol)
		return; /* released already (a failed sup_partition_init does it) */
	sup_partition_kill(p, 0);
	pthread_mutex_destroy(&p->lock);
	if (p->ctl)
		munmap(p->ctl, MUMU_PAGE_BYTES);
	if (p->status)
		munmap((void *)p->status, MUMU_PAGE_BYTES);
	p->ctl = NULL;
	p->status = NULL;
	closep(&p->ram_fd);
	closep(&p->image_fd);
	closep(&p->ctl_fd);
	closep(&p->status_fd);
	p->ram_fd = p->image_fd = p->ctl_fd = p->status_fd = -1;
	for (size_t i = 0; i < MUMU_VCPU_MAX; i++) {
		closep(&p->go_fd[i]);
		closep(&p->done_fd[i]);
		p->go_fd[i] = p->done_fd[i] = -1;
	}
	p->pol = NULL;
}
