/* SPDX-License-Identifier: MIT */
/* mumu-vmm NAME: the process of one partition. It receives its config and fds on fd 3 from the
 * supervisor, builds the KVM VM, starts the vCPU threads and serves until told to stop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "seccomp/seccomp.h"
#include "vmm/vmm.h"

static struct vmm vmm;
static char log_tag[MUMU_NAME_MAX + 32];

static int map_fd(int fd, uint64_t size, int prot, void **ret)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != size)
		return -EINVAL;
	p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*ret = p;
	return 0;
}

/* Receive IPC_CONFIG and its fds, check them, map the shared pages. */
static int receive_config(void)
{
	static uint8_t buf[IPC_MSG_MAX];
	int fds[IPC_FDS_MAX];
	size_t size, n_fds, want;
	uint32_t type;
	char why[64];
	void *p;
	int r;

	r = ipc_recv(IPC_CTL_FD, buf, &type, &size, fds, IPC_FDS_MAX, &n_fds);
	if (r < 0)
		return r;
	if (type != IPC_CONFIG) {
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		return -EPROTO;
	}
	memcpy(&vmm.cfg, buf, sizeof(vmm.cfg));
	r = vmm_config_validate(&vmm.cfg, why, sizeof(why));
	want = IPC_CFG_FD_GO0 + 2 * (size_t)vmm.cfg.n_vcpus + vmm.cfg.n_regions + vmm.cfg.n_batons;
	if (r < 0 || n_fds != want) {
		log_error("bad configuration from the supervisor: %s",
			  r < 0 ? why : "wrong number of fds");
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		return -EINVAL;
	}
	snprintf(log_tag, sizeof(log_tag), "mumu-vmm '%s'", vmm.cfg.partition_name);
	log_set_tag(log_tag);
	vmm.kvm_fd = fds[IPC_CFG_FD_KVM];
	r = map_fd(fds[IPC_CFG_FD_RAM], vmm.cfg.ram_bytes, PROT_READ | PROT_WRITE, &p);
	if (r < 0)
		return r;
	vmm.ram = p;
	close(fds[IPC_CFG_FD_RAM]);
	r = map_fd(fds[IPC_CFG_FD_CTL], MUMU_PAGE_BYTES, PROT_READ, &p);
	if (r < 0)
		return r;
	vmm.ctl = p;
	close(fds[IPC_CFG_FD_CTL]);
	r = map_fd(fds[IPC_CFG_FD_STATUS], MUMU_PAGE_BYTES, PROT_READ | PROT_WRITE, &p);
	if (r < 0)
		return r;
	vmm.status = p;
	close(fds[IPC_CFG_FD_STATUS]);
	for (uint32_t i = 0; i < vmm.cfg.n_vcpus; i++) {
		vmm.vcpu[i].go_fd = fds[IPC_CFG_FD_GO0 + i];
		vmm.vcpu[i].done_fd = fds[IPC_CFG_FD_GO0 + vmm.cfg.n_vcpus + i];
	}
	for (uint32_t i = 0; i < vmm.cfg.n_regions; i++)
		vmm.region_fd[i] = fds[IPC_CFG_FD_GO0 + 2 * vmm.cfg.n_vcpus + i];
	for (uint32_t i = 0; i < vmm.cfg.n_batons; i++)
		vmm.baton_fd[i] = fds[IPC_CFG_FD_GO0 + 2 * vmm.cfg.n_vcpus + vmm.cfg.n_regions + i];
	return 0;
}

static int build(void)
{
	int r;

	pthread_mutex_init(&vmm.paging, NULL);
	r = vmm_layout_build(vmm.ram, vmm.cfg.ram_bytes, vmm.cfg.n_vcpus, &vmm.spare_used);
	if (r < 0)
		return r;
	r = vmm_kvm_create(&vmm);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < vmm.cfg.n_vcpus; i++) {
		vmm.vcpu[i].vmm = &vmm;
		vmm.vcpu[i].id = i;
		r = vmm_kvm_vcpu_init(&vmm, &vmm.vcpu[i]);
		if (r < 0)
			return r;
	}
	vmm.status->magic = IPC_STATUS_MAGIC;
	vmm.status->n_vcpus = vmm.cfg.n_vcpus;
	return 0;
}

/* The main thread's job once the guest runs: wait for IPC_SHUTDOWN or the end of the socket. */
static int serve(void)
{
	static uint8_t buf[IPC_MSG_MAX];

	for (;;) {
		struct pollfd p = { .fd = IPC_CTL_FD, .events = POLLIN };
		uint32_t type;
		size_t size, n_fds;
		int fds[1];
		int r;

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		r = ipc_recv(IPC_CTL_FD, buf, &type, &size, fds, 0, &n_fds);
		if (r == -EAGAIN || r == -EINTR)
			continue;
		if (r == -ECONNRESET || (r == 0 && type == IPC_SHUTDOWN))
			return 0;
		log_error("unexpected message from the supervisor (%s)",
			  r < 0 ? strerror(-r) : ipc_type_name(type));
		return -EPROTO;
	}
}

/* Everything but seccomp; the fds kept are exactly those the running VMM uses. */
static int jail(void)
{
	int keep[4 + 1 + 3 * MUMU_VCPU_MAX + IPC_BATON_MAX];
	const char *step = "?";
	size_t n = 0;
	int r;

	keep[n++] = STDIN_FILENO;
	keep[n++] = STDOUT_FILENO;
	keep[n++] = STDERR_FILENO;
	keep[n++] = IPC_CTL_FD;
	keep[n++] = vmm.vm_fd;
	for (uint32_t i = 0; i < vmm.cfg.n_vcpus; i++) {
		keep[n++] = vmm.vcpu[i].fd;
		keep[n++] = vmm.vcpu[i].go_fd;
		keep[n++] = vmm.vcpu[i].done_fd;
	}
	for (uint32_t i = 0; i < vmm.cfg.n_batons; i++)
		keep[n++] = vmm.baton_fd[i];
	vmm.kvm_fd = -1; /* /dev/kvm itself is not needed once the VM exists */
	r = vmm_jail_enter(&vmm.cfg, keep, n, &step);
	if (r < 0)
		log_error("cannot enter the sandbox (%s): %s", step, strerror(-r));
	return r;
}

int main(int argc, char **argv)
{
	bool sandbox;
	sigset_t set;
	int r;

	log_set_tag("mumu-vmm");
	/* PARTITION MODULE SUPERVISOR_PID: what ps shows, so that two systems on one host can
	 * be told apart; only the names are checked against the configuration. */
	if (argc != 4 || fcntl(IPC_CTL_FD, F_GETFD) < 0) {
		fprintf(stderr,
			"usage: mumu-vmm PARTITION MODULE SUPERVISOR_PID (started by "
			"mumu-supervisor, which passes the partition's configuration on fd 3)\n");
		return 2;
	}
	/* Only vCPU threads take the window-end signal; everything else blocks it. */
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	vmm.supervisor_pid = getppid();
	r = receive_config();
	if (r < 0) {
		log_error("cannot receive the configuration: %s", strerror(-r));
		return 1;
	}
	if (strcmp(argv[1], vmm.cfg.partition_name) != 0 ||
	    strcmp(argv[2], vmm.cfg.module_name) != 0) {
		log_error("started as '%s' of '%s' but configured as '%s' of '%s'", argv[1],
			  argv[2], vmm.cfg.partition_name, vmm.cfg.module_name);
		return 1;
	}
	r = build();
	if (r < 0) {
		log_error("cannot build the VM: %s", strerror(-r));
		return 1;
	}
	sandbox = !(vmm.cfg.flags & IPC_CFG_NO_SANDBOX);
	r = sandbox ? jail() : vmm_sandbox_minimal();
	if (r < 0)
		return 1;
	fcntl(IPC_CTL_FD, F_SETFL, O_NONBLOCK);
	vmm.sock = IPC_CTL_FD;
	pthread_barrier_init(&vmm.started, NULL, vmm.cfg.n_vcpus + 1);
	for (uint32_t i = 0; i < vmm.cfg.n_vcpus; i++) {
		r = vmm_vcpu_start(&vmm.vcpu[i]);
		if (r < 0) {
			log_error("cannot start vCPU %u: %s", i, strerror(-r));
			return 1;
		}
	}
	pthread_barrier_wait(&vmm.started);
	/* Last: the system call filter, for every thread at once. */
	if (sandbox) {
		r = vmm_seccomp_load(vmm.cfg.flags & IPC_CFG_SECCOMP_LOG);
		if (r < 0) {
			log_error("cannot load the seccomp filter: %s", strerror(-r));
			return 1;
		}
	}
	vmm_test_hook(&vmm);
	r = ipc_send(IPC_CTL_FD, IPC_READY, NULL, 0, NULL, 0);
	if (r < 0)
		return 1;
	r = serve();
	if (vmm.status->console_dropped_bytes) /* the partition's, its earlier VMMs' too */
		log_warn("dropped %llu bytes of console output (over budget, or supervisor behind)",
			 (unsigned long long)vmm.status->console_dropped_bytes);
	for (uint32_t i = 0; i < vmm.cfg.n_vcpus; i++)
		log_debug("vcpu %u: %llu exits (mmio, hypercalls included: %llu)", i,
			  (unsigned long long)vmm.vcpu[i].exits,
			  (unsigned long long)vmm.vcpu[i].exits_by_reason[KVM_EXIT_MMIO]);
	/* Exiting ends every vCPU thread with the process. */
	return r < 0 ? 1 : 0;
}
