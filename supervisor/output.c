/* SPDX-License-Identifier: MIT */
/* The supervisor's output queue and its writer thread (output.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "supervisor/output.h"

#define BATCH 8 /* lines in one writev: a batch to a pipe stays within PIPE_BUF when short */

static void write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t k = writev(fd, iov, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return; /* nobody reads any more: nothing to be done */
		for (; n > 0 && (size_t)k >= iov->iov_len; iov++, n--)
			k -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
}

static void *writer(void *arg)
{
	struct sup_output *o = arg;
	struct sched_param none = { 0 };

	/* Below every partition's vCPU threads: it runs in time the cores have left over. */
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &none);
	pthread_mutex_lock(&o->lock);
	for (;;) {
		struct iovec iov[BATCH];
		uint64_t head = o->head;
		int n = 0, fd;

		while (o->head == o->tail && !o->stop)
			pthread_cond_wait(&o->cond, &o->lock);
		if (o->stop) /* queue empty, or given up on by sup_output_stop */
			break;
		/* The lines between head and tail are the writer's until it moves head. */
		fd = o->line[head % SUP_OUTPUT_LINES].fd;
		for (; n < BATCH && head + (uint64_t)n < o->tail; n++) {
			struct sup_output_line *l =
			    &o->line[(head + (uint64_t)n) % SUP_OUTPUT_LINES];

			if (l->fd != fd)
				break;
			iov[n] = (struct iovec){ .iov_base = l->text, .iov_len = l->len };
		}
		pthread_mutex_unlock(&o->lock);
		write_all(fd, iov, n);
		pthread_mutex_lock(&o->lock);
		for (int k = 0; k < n; k++)
			o->queued[o->line[(o->head + (uint64_t)k) % SUP_OUTPUT_LINES].owner]--;
		o->head += (uint64_t)n;
		pthread_cond_broadcast(&o->cond);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

int sup_output_start(struct sup_output *o, size_t n_owners)
{
	pthread_mutexattr_t mattr;
	pthread_condattr_t attr;
	sigset_t all, old;
	int r;

	/* Core threads log too (rarely): they must not wait behind a SCHED_IDLE holder. */
	pthread_mutexattr_init(&mattr);
	pthread_mutexattr_setprotocol(&mattr, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&o->lock, &mattr);
	pthread_mutexattr_destroy(&mattr);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* sup_output_stop's deadline */
	pthread_cond_init(&o->cond, &attr);
	pthread_condattr_destroy(&attr);
	o->head = o->tail = o->dropped_lines = 0;
	o->stop = false;
	o->n_owners = n_owners ? n_owners : 1;
	o->queued = calloc(o->n_owners, sizeof(*o->queued));
	if (!o->queued)
		return -ENOMEM;
	/* The writer takes no signal: the main thread's signalfd gets them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&o->thread, NULL, writer, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		free(o->queued);
		o->queued = NULL;
		return -r;
	}
	o->started = true;
	return 0;
}

bool sup_output_put(struct sup_output *o, size_t owner, int fd, const char *line, size_t len)
{
	struct sup_output_line *l;
	bool queued = false;

	if (len > SUP_OUTPUT_LINE_MAX)
		len = SUP_OUTPUT_LINE_MAX;
	if (!o->started) {
		struct iovec iov = { .iov_base = (void *)line, .iov_len = len };

		write_all(fd, &iov, 1);
		return true;
	}
	if (owner >= o->n_owners)
		owner = o->n_owners - 1;
	pthread_mutex_lock(&o->lock);
	if (o->tail - o->head < SUP_OUTPUT_LINES &&
	    o->queued[owner] < SUP_OUTPUT_LINES / o->n_owners) {
		l = &o->line[o->tail % SUP_OUTPUT_LINES];
		o->queued[owner]++;
		l->owner = (uint32_t)owner;
		l->fd = fd;
		l->len = (uint32_t)len;
		memcpy(l->text, line, len);
		o->tail++;
		queued = true;
		pthread_cond_broadcast(&o->cond);
	} else {
		o->dropped_lines++;
	}
	pthread_mutex_unlock(&o->lock);
	return queued;
}

uint64_t sup_output_stop(struct sup_output *o, uint64_t timeout_ns)
{
	struct timespec until = ns_timespec(mono_ns() + timeout_ns);
	uint64_t dropped;
	bool empty;

	if (!o->started)
		return 0;
	pthread_mutex_lock(&o->lock);
	while (o->head != o->tail &&
	       pthread_cond_timedwait(&o->cond, &o->lock, &until) != ETIMEDOUT)
		;
	empty = o->head == o->tail;
	o->dropped_lines += o->tail - o->head; /* what a stalled reader never took */
	o->stop = true;
	pthread_cond_broadcast(&o->cond);
	dropped = o->dropped_lines;
	pthread_mutex_unlock(&o->lock);
	if (empty) {
		pthread_join(o->thread, NULL);
		free(o->queued);
		o->queued = NULL;
	} else
		pthread_detach(o->thread); /* blocked in write(2): it ends with the process */
	o->started = false;
	return dropped;
}
