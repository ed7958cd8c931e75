/* SPDX-License-Identifier: MIT */
/* A partition's resources on the supervisor side: its memfds, pages, image and eventfds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
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

/* An ELF image, as the memfd holds it now (the policy looked at the path before): its plan. */
static int plan_elf(struct sup_partition *p, size_t size)
{
	uint64_t hi = p->pol->memory_bytes - (uint64_t)p->pol->n_cores * MUMU_STACK_BYTES;
	void *img = mmap(NULL, size, PROT_READ, MAP_SHARED, p->image_fd, 0);
	char why[160];
	int r;

	if (img == MAP_FAILED)
		return -errno;
	r = elf_plan(img, size, MUMU_USER_GPA, hi, &p->elf, why, sizeof(why));
	munmap(img, size);
	if (r < 0) {
		log_error("partition '%s': the ELF image '%s' cannot be loaded: %s", p->pol->name,
			  p->pol->binary_resolved, why);
		return r;
	}
	p->image_bytes = p->elf.end - MUMU_USER_GPA;
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
	if (off == 0)
		return -ENOEXEC;
	p->image_bytes = (uint64_t)off;
	return p->pol->binary_elf ? plan_elf(p, (size_t)off) : 0;
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
	for (size_t i = 0; i < p->elf.n; i++) { /* an ELF: each segment where it goes */
		const struct elf_segment *s = &p->elf.seg[i];

		for (off = 0; (uint64_t)off < s->filesz;) {
			size_t want = s->filesz - (uint64_t)off < sizeof(buf)
					  ? s->filesz - (uint64_t)off
					  : sizeof(buf);
			ssize_t n = pread(p->image_fd, buf, want, (off_t)s->offset + off);

			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			r = write_all(p->ram_fd, buf, (size_t)n, (off_t)s->vaddr + off);
			if (r < 0)
				return r;
			off += n;
		}
	}
	while (p->elf.n == 0 && (uint64_t)off < p->image_bytes) {
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

	*p =
	    (struct sup_partition){ .pol = pol, .index = index, .chan.sock = -1, .proc.pidfd = -1 };
	/* Priority inheritance: a real-time core thread never waits behind the main thread. */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&p->proc.lock, &attr);
	pthread_mutexattr_destroy(&attr);
	p->ram_fd = p->image_fd = p->ctl_fd = p->status_fd = -1;
	for (size_t i = 0; i < MUMU_VCPU_MAX; i++)
		p->port.go_fd[i] = p->port.done_fd[i] = -1;

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
	p->port.ctl = m;
	m = mmap(NULL, MUMU_PAGE_BYTES, PROT_READ, MAP_SHARED, p->status_fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	p->port.status = m;
	p->port.ctl->magic = IPC_CTL_MAGIC;
	p->port.ctl->n_vcpus = (uint32_t)pol->n_cores;
	p->port.ctl->mode = MUMU_MODE_COLD_START; /* until the guest says NORMAL (SET_MODE) */
	p->port.ctl->start_condition = MUMU_START_NORMAL;

	for (size_t i = 0; i < pol->n_cores; i++) {
		p->port.go_fd[i] = eventfd(0, EFD_CLOEXEC);
		p->port.done_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->port.go_fd[i] < 0 || p->port.done_fd[i] < 0) {
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

void sup_partition_fini(struct sup_partition *p)
{
	if (!p->pol)
		return; /* released already (a failed sup_partition_init does it) */
	sup_partition_kill(p, 0);
	pthread_mutex_destroy(&p->proc.lock);
	if (p->port.ctl)
		munmap(p->port.ctl, MUMU_PAGE_BYTES);
	if (p->port.status)
		munmap((void *)p->port.status, MUMU_PAGE_BYTES);
	p->port.ctl = NULL;
	p->port.status = NULL;
	closep(&p->ram_fd);
	closep(&p->image_fd);
	closep(&p->ctl_fd);
	closep(&p->status_fd);
	p->ram_fd = p->image_fd = p->ctl_fd = p->status_fd = -1;
	for (size_t i = 0; i < MUMU_VCPU_MAX; i++) {
		closep(&p->port.go_fd[i]);
		closep(&p->port.done_fd[i]);
		p->port.go_fd[i] = p->port.done_fd[i] = -1;
	}
	p->pol = NULL;
}
