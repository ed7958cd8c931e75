/* SPDX-License-Identifier: MIT */
/* The static schedule: a thread per core kicks each window ahead of its start (core.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "supervisor/core.h"

#define CORE_PRIORITY 80

static bool stopping(const struct sup_sched *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

static bool held(const struct sup_partition *p)
{
	return __atomic_load_n(&p->state, __ATOMIC_ACQUIRE) != SUP_PART_RUNNING ||
	       __atomic_load_n(&p->switch_action, __ATOMIC_ACQUIRE) != POL_ACTION_IGNORE;
}

/* The end of the last window this core gave a VMM, until it is checked; 0 when none. */
static uint64_t busy_until(const struct sup_core *c)
{
	return sup_core_last(c) ? sup_core_last(c)->end_ns : 0;
}

/* Whether the last window given on the core went to the vCPU of w (a thread has one window
 * to start at a time: its next is kicked after its last one's end). */
static bool same_vcpu(const struct sup_core *c, const struct pol_core_window *w)
{
	const struct sup_pending *last = sup_core_last(c);

	return last && last->partition == w->partition && last->vcpu == w->vcpu;
}

static void kick(struct sup_core *c, const struct pol_core_window *w, uint64_t frame,
		 uint64_t start, uint64_t end, uint64_t check, const struct sup_baton *b)
{
	struct sup_partition *p = &c->sched->parts[w->partition];
	struct sup_part_stats *st = &c->stats[w->partition];
	volatile struct ipc_vcpu_ctl *ctl = &p->port.ctl->vcpu[w->vcpu];
	/* The generation before held(): the VMM this window is for, should the main thread
	 * replace it meanwhile. */
	struct sup_pending pw = {
		.partition = w->partition,
		.vcpu = w->vcpu,
		.frame = frame,
		.schedule_id = c->schedule_id,
		.offset_ns = w->offset_ns,
		.generation = __atomic_load_n(&p->proc.generation, __ATOMIC_ACQUIRE),
		.start_ns = start,
		.end_ns = end,
		.check_ns = check,
	};
	uint64_t one = 1, junk;

	if (held(p)) {
		st->idle++;
		sup_core_record(c, &pw, 0, 0, SUP_WINDOW_IDLE);
		return;
	}
	if (mono_ns() >= end) {
		st->missed++;
		sup_core_record(c, &pw, 0, 0, SUP_WINDOW_MISSED);
		log_warn("partition '%s': window at %llu ns missed on core %u", p->pol->name,
			 (unsigned long long)(start - c->sched->epoch_ns), c->core_id);
		return;
	}
	while (read(p->port.done_fd[w->vcpu], &junk, sizeof(junk)) > 0)
		; /* a late answer to an earlier window */
	sup_partition_resume(p);
	ctl->start_ns = start;
	ctl->end_ns = end;
	ctl->handover = sup_core_handover(c, b);
	pw.seq = ctl->window_seq + 1;
	__atomic_store_n(&ctl->window_seq, pw.seq, __ATOMIC_RELEASE);
	if (write(p->port.go_fd[w->vcpu], &one, sizeof(one)) != sizeof(one))
		return;
	pw.kick = __atomic_add_fetch(&p->port.kicks, 1, __ATOMIC_ACQ_REL);
	if (c->n_pending < ARRAY_SIZE(c->pending))
		c->pending[c->n_pending++] = pw;
}

/* Every partition's control page tells its guest the current and the next schedule. */
static void publish(struct sup_sched *s, size_t current, size_t next, uint64_t last_switch_ns)
{
	for (size_t i = 0; i < s->sys->n_partitions; i++) {
		struct ipc_ctl_page *ctl = s->parts[i].port.ctl;

		if (!ctl)
			continue;
		__atomic_store_n(&ctl->time_of_last_switch_ns, last_switch_ns, __ATOMIC_RELAXED);
		__atomic_store_n(&ctl->current_schedule_id, s->sys->schedules[current].id,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&ctl->next_schedule_id, s->sys->schedules[next].id,
				 __ATOMIC_RELEASE);
	}
}

/*
 * Decide the schedule of the frame starting at boundary_ns, IPC_KICK_LEAD_NS before it (its
 * first windows are kicked from then on). The first core to get there decides for every core
 * (under the plan lock), so all cores switch at the same boundary. Partitions with a
 * ScheduleChangeAction are held from the decision on; the main thread applies the action when
 * the old frame has ended (end_frame).
 */
static size_t frame_schedule(struct sup_core *c, uint64_t boundary_ns)
{
	struct sup_sched *s = c->sched;
	size_t idx;

	pthread_mutex_lock(&s->lock);
	if (sup_plan_decide(&s->plan, boundary_ns)) {
		c->switched = true;
		for (size_t i = 0; i < s->sys->n_partitions; i++) {
			enum pol_action a = s->sys->partitions[i].schedule_change_action;

			if (a != POL_ACTION_IGNORE)
				__atomic_store_n(&s->parts[i].switch_action, a, __ATOMIC_RELEASE);
		}
		__atomic_add_fetch(&s->switches, 1, __ATOMIC_ACQ_REL);
	}
	idx = sup_plan_at(&s->plan, boundary_ns);
	pthread_mutex_unlock(&s->lock);
	return idx;
}

/*
 * The frame that ends at c->frame_end is done: a switch becomes visible to the guests at that
 * instant, so for one the core thread sleeps until it, before the next kick. Otherwise nothing
 * needs the instant itself, and the core thread ends the frame right after its first kick
 * past the boundary: a wake-up of its own, or the main thread's, at the boundary or before a
 * kick would fall on the start of a window and take the core from that vCPU.
 */
static bool end_frame(struct sup_core *c)
{
	struct sup_sched *s = c->sched;
	uint64_t one = 1;

	sup_core_checks_until(c, c->frame_end);
	sleep_until_ns(c->frame_end);
	if (c->switched) {
		const struct sup_plan *pl = &s->plan;

		pthread_mutex_lock(&s->lock);
		publish(s, sup_plan_at(pl, c->frame_end),
			pl->requested == SIZE_MAX ? sup_plan_at(pl, c->frame_end) : pl->requested,
			c->frame_end);
		pthread_mutex_unlock(&s->lock);
		c->switched = false;
	}
	c->frame_end = 0;
	__atomic_add_fetch(&c->frames_done, 1, __ATOMIC_RELEASE);
	return write(s->notify_fd, &one, sizeof(one)) == sizeof(one);
}

static void *core_thread(void *arg)
{
	struct sup_core *c = arg;
	struct sup_sched *s = c->sched;
	size_t cur = s->sys->initial_schedule;
	uint64_t epoch, frames = 0;
	bool ok = true;

	/* The epoch is fixed once every core thread exists (sup_sched_start). */
	pthread_mutex_lock(&s->lock);
	while (!s->epoch_ns && !stopping(s))
		pthread_cond_wait(&s->started, &s->lock);
	epoch = s->epoch_ns;
	pthread_mutex_unlock(&s->lock);

	for (uint64_t f = 0; ok && !stopping(s) && (!s->max_frames || frames < s->max_frames);) {
		const struct pol_core_window *win = c->windows[cur];
		uint64_t frame_ns = s->sys->schedules[cur].major_frame_ns, boundary;
		size_t next;

		c->schedule_id = s->sys->schedules[cur].id;
		for (size_t i = 0; i < c->n_windows[cur] && ok && !stopping(s); i++) {
			uint64_t start = sup_sched_planned_ns(epoch, frame_ns, f, win[i].offset_ns);
			uint64_t end = start + win[i].duration_ns;
			/* Less than a spin after the last window a VMM got on the core, it is kicked
			 * ahead and its vCPU waits for the one leaving by itself: the kernel's FIFO
			 * order on a real-time core, else the baton between them. After a longer
			 * gap the core thread kicks it once that one has left, in the gap. */
			const struct sup_baton *b =
			    c->rt_vcpus ? NULL : sup_core_baton_to(c, &win[i]);
			bool ahead = busy_until(c) && start - busy_until(c) < IPC_SPIN_NS &&
				     (b || (c->rt_vcpus && !same_vcpu(c, &win[i])));
			uint64_t at = ahead ? sup_kick_ahead(start, busy_until(c))
					    : sup_kick_time(start, busy_until(c));

			if (at >= c->frame_end && c->frame_end && c->switched)
				ok = end_frame(c); /* a switch is published before this kick */
			sup_core_checks_until(c, at);
			if (!ahead && at == busy_until(c)) {
				/* Back to back, its VMM is continued ahead, off the hand-over's path
				 * (after a gap, that would be at the leaving vCPU's exit). */
				if (at == start) {
					sleep_until_ns(sup_kick_time(start, 0));
					if (!held(&s->parts[win[i].partition]))
						sup_partition_resume(&s->parts[win[i].partition]);
				}
				sup_core_hand_over(c, at + IPC_HANDOVER_MAX_NS);
			}
			sleep_until_ns(at);
			kick(c, &win[i], frames, start, end, end + c->check_after[cur][i], b);
			if (ok && c->frame_end && mono_ns() >= c->frame_end)
				ok = end_frame(c); /* after the kick, which it must not delay */
		}
		boundary = sup_sched_planned_ns(epoch, frame_ns, f + 1, 0);
		if (c->frame_end && c->switched)
			ok = ok && end_frame(c); /* a switch, and no window after its lead */
		sup_core_checks_until(c, boundary - IPC_KICK_LEAD_NS);
		/* A window that ends at the decision, or just before it, is left first: the
		 * decision's work (the plan's lock, the frame's end) would take the core from
		 * that vCPU's exit (1 ms windows ending there left 12 us later at the median). */
		if (busy_until(c) && busy_until(c) <= boundary - IPC_KICK_LEAD_NS &&
		    boundary - IPC_KICK_LEAD_NS < busy_until(c) + SUP_CHECK_CLEAR_NS)
			sup_core_hand_over(c, boundary - IPC_KICK_LEAD_NS + SUP_CHECK_CLEAR_NS);
		sleep_until_ns(boundary - IPC_KICK_LEAD_NS);
		if (c->frame_end)
			ok = ok && end_frame(c); /* long over: the frame is longer than the lead */
		c->frame_end = boundary;
		frames++;
		next = frame_schedule(c, boundary);
		if (next != cur) {
			cur = next;
			epoch = boundary;
			f = 0;
		} else {
			f++;
		}
	}
	if (c->frame_end)
		end_frame(c);
	sup_core_checks_until(c, UINT64_MAX);
	return NULL;
}

int sup_sched_request(struct sup_sched *s, size_t schedule)
{
	size_t cur, next;

	if (schedule >= s->sys->n_schedules)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	cur = sup_plan_at(&s->plan, UINT64_MAX);
	s->plan.requested = schedule == cur ? SIZE_MAX : schedule;
	next = schedule;
	publish(s, cur, next,
		s->plan.n ? s->plan.hist[(s->plan.n - 1) % SUP_PLAN_HISTORY].at_ns : s->epoch_ns);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void sup_sched_current(struct sup_sched *s, size_t *ret_current, size_t *ret_next)
{
	pthread_mutex_lock(&s->lock);
	*ret_current = sup_plan_at(&s->plan, UINT64_MAX);
	*ret_next = s->plan.requested == SIZE_MAX ? *ret_current : s->plan.requested;
	pthread_mutex_unlock(&s->lock);
}

/* A core's windows in each schedule, and when each one's check comes: once, off the path. */
static int core_init(struct sup_core *c, const struct pol_system *sys,
		     const struct sup_partition *parts)
{
	for (size_t i = 0; i < sys->n_partitions; i++)
		for (size_t v = 0; v < sys->partitions[i].n_cores; v++)
			if (sys->partitions[i].cores[v].physical_core_id == c->core_id &&
			    (parts[i].proc.rt_vcpus & (1U << v)))
				c->rt_vcpus = true;
	c->windows = calloc(sys->n_schedules, sizeof(*c->windows));
	c->n_windows = calloc(sys->n_schedules, sizeof(*c->n_windows));
	c->check_after = calloc(sys->n_schedules, sizeof(*c->check_after));
	c->stats = calloc(sys->n_partitions, sizeof(*c->stats));
	c->ring = calloc(SUP_RING_SIZE, sizeof(*c->ring));
	if (!c->windows || !c->n_windows || !c->check_after || !c->stats || !c->ring)
		return -ENOMEM;
	for (size_t k = 0; k < sys->n_schedules; k++) {
		const struct pol_schedule *sch = &sys->schedules[k];
		size_t n = pol_core_windows(sys, sch, c->core_id, NULL, 0);

		c->n_windows[k] = n;
		c->windows[k] = calloc(n + 1, sizeof(*c->windows[k]));
		c->check_after[k] = calloc(n + 1, sizeof(*c->check_after[k]));
		if (!c->windows[k] || !c->check_after[k])
			return -ENOMEM;
		pol_core_windows(sys, sch, c->core_id, c->windows[k], n);
		for (size_t i = 0; i < n; i++) {
			uint64_t end = c->windows[k][i].offset_ns + c->windows[k][i].duration_ns;

			c->check_after[k][i] =
			    sup_check_time(end, 0, sch->major_frame_ns, c->windows[k], n) - end;
		}
	}
	return 0;
}

/* The core's thread, pinned to it, SCHED_FIFO CORE_PRIORITY where the supervisor may. */
static int core_thread_create(struct sup_sched *s, struct sup_core *c)
{
	struct sched_param prio = { .sched_priority = CORE_PRIORITY };
	pthread_attr_t attr;
	cpu_set_t cpus;
	int r;

	pthread_attr_init(&attr);
	CPU_ZERO(&cpus);
	CPU_SET(c->core_id, &cpus);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	if (s->realtime) {
		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		pthread_attr_setschedparam(&attr, &prio);
	}
	r = pthread_create(&c->thread, &attr, core_thread, c);
	if (r == EPERM && s->realtime) {
		log_warn("no permission for SCHED_FIFO (CAP_SYS_NICE): the schedule runs at "
			 "normal priority and window starts will be later");
		s->realtime = false;
		pthread_attr_setinheritsched(&attr, PTHREAD_INHERIT_SCHED);
		r = pthread_create(&c->thread, &attr, core_thread, c);
	}
	pthread_attr_destroy(&attr);
	c->started = r == 0;
	return -r;
}

int sup_sched_start(struct sup_sched *s, const struct pol_system *sys, struct sup_partition *parts,
		    const struct sup_baton *batons, size_t n_batons, uint64_t max_frames)
{
	pthread_mutexattr_t mattr;
	size_t n = 0;
	int r;

	memset(s, 0, sizeof(*s));
	s->sys = sys;
	s->parts = parts;
	s->batons = batons;
	s->n_batons = n_batons;
	s->epoch_ns = 0; /* fixed by sup_sched_go, once the core threads exist */
	s->max_frames = max_frames;
	s->plan = (struct sup_plan){ .initial = sys->initial_schedule, .requested = SIZE_MAX };
	pthread_mutexattr_init(&mattr);
	pthread_mutexattr_setprotocol(&mattr, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&s->lock, &mattr);
	pthread_mutexattr_destroy(&mattr);
	s->lock_ready = true;
	pthread_cond_init(&s->started, NULL);
	s->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->notify_fd < 0)
		return -errno;
	for (uint32_t core = 0; core < POL_CPU_MAX; core++)
		n += pol_core_used(sys, core);
	s->cores = calloc(n, sizeof(*s->cores));
	if (!s->cores)
		return -ENOMEM;
	s->realtime = true;
	for (uint32_t core = 0; core < POL_CPU_MAX; core++) {
		struct sup_core *c;

		if (!pol_core_used(sys, core))
			continue;
		c = &s->cores[s->n_cores++];
		c->sched = s;
		c->core_id = core;
		if ((r = core_init(c, sys, parts)) < 0 || (r = core_thread_create(s, c)) < 0)
			return r;
	}
	return 0;
}

void sup_sched_go(struct sup_sched *s, uint64_t lead_ns)
{
	pthread_mutex_lock(&s->lock);
	s->epoch_ns = mono_ns() + lead_ns;
	publish(s, s->sys->initial_schedule, s->sys->initial_schedule, s->epoch_ns);
	pthread_cond_broadcast(&s->started);
	pthread_mutex_unlock(&s->lock);
}
void sup_sched_stop(struct sup_sched *s)
{
	__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
	if (s->lock_ready) { /* threads still waiting for the epoch */
		pthread_mutex_lock(&s->lock);
		pthread_cond_broadcast(&s->started);
		pthread_mutex_unlock(&s->lock);
	}
	for (size_t i = 0; i < s->n_cores; i++)
		if (s->cores[i].started) {
			pthread_join(s->cores[i].thread, NULL);
			s->cores[i].started = false;
		}
}

uint64_t sup_sched_frames_done(const struct sup_sched *s)
{
	uint64_t min = UINT64_MAX;

	for (size_t i = 0; i < s->n_cores; i++) {
		uint64_t f = __atomic_load_n(&s->cores[i].frames_done, __ATOMIC_ACQUIRE);

		if (f < min)
			min = f;
	}
	return s->n_cores ? min : 0;
}

void sup_sched_stats(const struct sup_sched *s, size_t i, struct sup_part_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t c = 0; c < s->n_cores; c++)
		if (s->cores[c].stats)
			sup_part_stats_merge(ret, &s->cores[c].stats[i]);
}

size_t sup_sched_drain(struct sup_sched *s, sup_record_fn fn, void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_cores; i++) {
		struct sup_core *c = &s->cores[i];
		uint64_t head = __atomic_load_n(&c->head, __ATOMIC_ACQUIRE);

		for (uint64_t t = c->tail; t < head; t++, n++)
			fn(ctx, &c->ring[t % SUP_RING_SIZE]);
		__atomic_store_n(&c->tail, head, __ATOMIC_RELEASE);
	}
	return n;
}

uint64_t sup_sched_dropped(const struct sup_sched *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->n_cores; i++)
		n += __atomic_load_n(&s->cores[i].dropped, __ATOMIC_RELAXED);
	return n;
}

void sup_sched_free(struct sup_sched *s)
{
	sup_sched_stop(s);
	for (size_t i = 0; i < s->n_cores; i++) {
		for (size_t k = 0; s->cores[i].windows && k < s->sys->n_schedules; k++)
			free(s->cores[i].windows[k]);
		for (size_t k = 0; s->cores[i].check_after && k < s->sys->n_schedules; k++)
			free(s->cores[i].check_after[k]);
		free(s->cores[i].windows);
		free(s->cores[i].check_after);
		free(s->cores[i].n_windows);
		free(s->cores[i].stats);
		free(s->cores[i].ring);
	}
	free(s->cores);
	s->cores = NULL;
	s->n_cores = 0;
	if (s->notify_fd >= 0)
		close(s->notify_fd);
	s->notify_fd = -1;
	if (s->lock_ready) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->started);
	}
	s->lock_ready = false;
}
