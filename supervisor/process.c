/* SPDX-License-Identifier: MIT */
/*
 * The VMM process of a partition: fork + exec into its cores and limits, its configuration
 * and fds, and every signal to it (through the pidfd, under the partition's lock).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "supervisor/partition.h"

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

static void child_exec(const char *vmm_path, const char *module, const struct pol_partition *pol,
		       int sock, uint64_t as_bytes) __attribute__((noreturn));

static void child_exec(const char *vmm_path, const char *module, const struct pol_partition *pol,
		       int sock, uint64_t as_bytes)
{
	char supervisor[16];
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
	/* `mumu-vmm PARTITION MODULE SUPERVISOR_PID` in ps: two systems on a host apart. */
	snprintf(supervisor, sizeof(supervisor), "%d", (int)getppid());
	execle(vmm_path, vmm_path, pol->name, module, supervisor, (char *)NULL, env);
	_exit(127);
}

/* Fork the VMM into its limits; the new process becomes the partition's, under its lock. */
static int fork_vmm(struct sup_partition *p, const struct pol_system *sys, const char *vmm_path,
		    const struct pol_region *regions, size_t n_regions)
{
	int sv[2], r;
	pid_t pid;

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
		child_exec(vmm_path, sys->name, p->pol, sv[1],
			   sup_vmm_as_bytes(p->pol, regions, n_regions));
	close(sv[1]);
	p->chan.sock = sv[0];
	r = (int)syscall(SYS_pidfd_open, pid, 0);
	if (r < 0) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(p->chan.sock);
		p->chan.sock = -1;
		return r;
	}
	pthread_mutex_lock(&p->proc.lock);
	p->proc.pid = pid;
	p->proc.pidfd = r;
	memset(p->proc.vcpu_tid, 0, sizeof(p->proc.vcpu_tid)); /* known at READY */
	if (clock_getcpuclockid(pid, &p->proc.cpu_clock) != 0)
		p->proc.cpu_clock = -1;
	p->proc.generation++;
	__atomic_store_n(&p->proc.stopped_by_sup, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->proc.lock);
	p->overruns = 0; /* those were the old VMM's */
	p->overrun_since_ns = 0;
	fcntl(p->chan.sock, F_SETFL, O_NONBLOCK);
	__atomic_store_n(&p->state, SUP_PART_STARTING, __ATOMIC_RELEASE);
	return 0;
}

/* What the VMM is told of its partition (struct ipc_config), but its regions and batons. */
static void config_of(const struct sup_partition *p, const struct pol_system *sys,
		      const struct sup_spawn *how, struct ipc_config *cfg)
{
	const struct pol_partition *pol = p->pol;

	snprintf(cfg->partition_name, sizeof(cfg->partition_name), "%s", pol->name);
	snprintf(cfg->module_name, sizeof(cfg->module_name), "%s", sys->name);
	cfg->partition_id = pol->id;
	cfg->n_vcpus = (uint32_t)pol->n_cores;
	for (size_t i = 0; i < pol->n_cores; i++)
		cfg->physical_core_id[i] = pol->cores[i].physical_core_id;
	cfg->ram_bytes = pol->memory_bytes;
	cfg->image_bytes = p->image_bytes;
	cfg->entry = p->elf.n ? p->elf.entry : MUMU_USER_GPA;
	cfg->flags = how->flags | sup_partition_rights(pol);
	cfg->uid = how->uid;
	cfg->gid = how->gid;
	cfg->period_ns = pol->period_ns;
	cfg->duration_ns = pol->duration_ns;
}

/* IPC_CONFIG and its fds, in the order of enum ipc_config_fd. */
static int send_config(struct sup_partition *p, const struct pol_system *sys,
		       const struct sup_spawn *how, const struct pol_region *regions,
		       size_t n_regions)
{
	struct ipc_config cfg = { 0 };
	int fds[IPC_FDS_MAX], ro_fds[MUMU_REGION_MAX], ro, r = 0;
	size_t n = 0;

	config_of(p, sys, how, &cfg);
	for (size_t i = 0; i < n_regions; i++)
		ro_fds[i] = -1;
	ro = reopen_ro(p->ctl_fd);
	if (ro < 0)
		return -errno;
	fds[n++] = how->kvm_fd;
	fds[n++] = p->ram_fd;
	fds[n++] = ro;
	fds[n++] = p->status_fd;
	for (size_t i = 0; i < p->pol->n_cores; i++)
		fds[n++] = p->port.go_fd[i];
	for (size_t i = 0; i < p->pol->n_cores; i++)
		fds[n++] = p->port.done_fd[i];
	/* A reader's memfd is re-opened O_RDONLY: the kernel refuses it a writable mapping. */
	cfg.n_regions = (uint32_t)n_regions;
	for (size_t i = 0; i < n_regions && r >= 0; i++) {
		int obj = how->objects[regions[i].object];

		cfg.regions[i] = regions[i].region;
		if (regions[i].region.access != MUMU_ACCESS_WRITE)
			obj = ro_fds[i] = reopen_ro(obj);
		r = obj < 0 ? -errno : 0;
		fds[n++] = obj;
	}
	/* Its batons, in the order of their from_idx/to_idx (sup_batons_plan counts so). */
	for (size_t i = 0; i < p->port.n_batons; i++) {
		const struct sup_baton *b = &p->port.batons[i];

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
		r = ipc_send(p->chan.sock, IPC_CONFIG, &cfg, sizeof(cfg), fds, n);
	close(ro);
	for (size_t i = 0; i < n_regions; i++)
		closep(&ro_fds[i]);
	return r;
}

static int spawn(struct sup_partition *p, const struct pol_system *sys, const struct sup_spawn *how)
{
	struct pol_region regions[MUMU_REGION_MAX];
	size_t n_regions = pol_partition_regions(sys, p->index, regions, MUMU_REGION_MAX);
	int r;

	if (n_regions > MUMU_REGION_MAX)
		return -E2BIG; /* the policy checks refuse such a config */
	r = fork_vmm(p, sys, how->vmm_path, regions, n_regions);
	if (r < 0)
		return r;
	r = send_config(p, sys, how, regions, n_regions);
	if (r < 0)
		sup_partition_kill(p, 0);
	return r;
}

int sup_partition_spawn(struct sup_partition *p, const struct pol_system *sys,
			const struct sup_spawn *how)
{
	cpu_set_t saved, cpus;
	bool moved;
	int r;

	/* The spawn's own work (the fork, the child until exec, the configuration) runs on the
	 * partition's cores like the VMM it starts: a restart takes no time on another core. */
	partition_cpus(p->pol, &cpus);
	moved = sched_getaffinity(0, sizeof(saved), &saved) == 0 &&
		sched_setaffinity(0, sizeof(cpus), &cpus) == 0;
	r = spawn(p, sys, how);
	if (moved)
		sched_setaffinity(0, sizeof(saved), &saved);
	return r;
}

static bool signal_locked(struct sup_partition *p, int sig)
{
	return p->proc.pidfd >= 0 &&
	       syscall(SYS_pidfd_send_signal, p->proc.pidfd, sig, NULL, 0) == 0;
}

bool sup_partition_stop(struct sup_partition *p, uint32_t generation, uint32_t vcpu)
{
	bool sent = false;

	pthread_mutex_lock(&p->proc.lock);
	if (p->proc.generation == generation && !p->proc.stopped_by_sup) {
		/* The pid is not reaped (under the lock): tgkill finds the thread in that process
		 * or nothing, never a reused id elsewhere. */
		if (vcpu < MUMU_VCPU_MAX && p->proc.vcpu_tid[vcpu] > 0 && p->proc.pid > 0)
			syscall(SYS_tgkill, p->proc.pid, p->proc.vcpu_tid[vcpu], SIGSTOP);
		sent = signal_locked(p, SIGSTOP);
		__atomic_store_n(&p->proc.stopped_by_sup, sent, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&p->proc.lock);
	return sent;
}

bool sup_partition_resume(struct sup_partition *p)
{
	bool sent = false;

	if (!__atomic_load_n(&p->proc.stopped_by_sup, __ATOMIC_ACQUIRE))
		return false; /* the common case, without the lock */
	pthread_mutex_lock(&p->proc.lock);
	if (p->proc.stopped_by_sup) {
		sent = signal_locked(p, SIGCONT);
		__atomic_store_n(&p->proc.stopped_by_sup, false, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&p->proc.lock);
	return sent;
}

bool sup_partition_cpu_ns(struct sup_partition *p, uint32_t generation, uint64_t *ret_ns)
{
	struct timespec ts;
	bool ok;

	pthread_mutex_lock(&p->proc.lock); /* the pid cannot be reaped and reused meanwhile */
	ok = p->proc.generation == generation && p->proc.pid > 0 &&
	     p->proc.cpu_clock != (clockid_t)-1 && clock_gettime(p->proc.cpu_clock, &ts) == 0;
	pthread_mutex_unlock(&p->proc.lock);
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

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->proc.pid);
	d = opendir(path);
	if (!d)
		return -ESRCH;
	while ((e = readdir(d)) != NULL) {
		char comm[32] = "";
		unsigned v;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/comm", (int)p->proc.pid,
			 e->d_name);
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
		if ((p->proc.rt_vcpus & (1U << v)) &&
		    sched_setscheduler(tid[v], SCHED_FIFO, &prio) == 0)
			rt |= 1U << v;
	}
	closedir(d);
	pthread_mutex_lock(&p->proc.lock);
	memcpy(p->proc.vcpu_tid, tid, sizeof(p->proc.vcpu_tid));
	pthread_mutex_unlock(&p->proc.lock);
	return found == all && rt == p->proc.rt_vcpus ? 0 : -ESRCH;
}

void sup_partition_ask_exit(struct sup_partition *p)
{
	__atomic_store_n(&p->state, SUP_PART_STOPPED, __ATOMIC_RELEASE);
	if (p->proc.pid <= 0)
		return;
	if (p->chan.sock >= 0)
		ipc_send(p->chan.sock, IPC_SHUTDOWN, NULL, 0, NULL, 0);
	pthread_mutex_lock(
	    &p->proc.lock); /* enforcement may have stopped it: it must run to exit */
	/*
	 * Its end (the VM's teardown, its memory freed) runs in its own threads: below every
	 * window, not at a real-time vCPU's priority in the next partition's (it took 0.2-0.7 ms
	 * of a neighbour's 45 ms window at each restart). tgkill(0) first: the thread is still
	 * that process's, its id not reused.
	 */
	for (size_t i = 0; i < MUMU_VCPU_MAX && p->proc.pid > 0; i++)
		if (p->proc.vcpu_tid[i] > 0 &&
		    syscall(SYS_tgkill, p->proc.pid, p->proc.vcpu_tid[i], 0) == 0)
			sched_setscheduler(p->proc.vcpu_tid[i], SCHED_IDLE,
					   &(struct sched_param){ 0 });
	if (p->proc.pid > 0)
		sched_setscheduler(p->proc.pid, SCHED_IDLE, &(struct sched_param){ 0 });
	signal_locked(p, SIGCONT);
	__atomic_store_n(&p->proc.stopped_by_sup, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->proc.lock);
}

int sup_partition_kill(struct sup_partition *p, uint64_t timeout_ns)
{
	int pidfd, status = 0;
	pid_t pid;

	sup_partition_ask_exit(p);
	pthread_mutex_lock(&p->proc.lock); /* from here on no core thread can signal it */
	pid = p->proc.pid;
	pidfd = p->proc.pidfd;
	p->proc.pid = 0;
	p->proc.pidfd = -1;
	memset(p->proc.vcpu_tid, 0, sizeof(p->proc.vcpu_tid));
	pthread_mutex_unlock(&p->proc.lock);
	if (pid > 0) {
		if (timeout_ns > 0) {
			struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

			poll(&pfd, 1, (int)(timeout_ns / 1000000));
		}
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		waitpid(pid, &status, 0);
	}
	if (p->chan.sock >= 0)
		close(p->chan.sock);
	if (pidfd >= 0)
		close(pidfd);
	p->chan.sock = -1;
	return status;
}
