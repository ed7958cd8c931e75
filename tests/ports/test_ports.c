/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of guests/lib/port.c on the host: ports live in ordinary shared memory here,
 * the clock and the window wait are the test's. The stress tests run a writer process on
 * one core and the reader on another, and kill the writer at random moments.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/port.h"

static uint64_t fake_now = 1000000000ULL;
static bool real_clock;
static unsigned waits;
static void (*on_wait)(void);

uint64_t mumu_now_ns(void)
{
	struct timespec ts;

	if (!real_clock)
		return fake_now;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void mumu_wait_window(void)
{
	waits++;
	if (on_wait)
		on_wait();
}

/* One sampling channel and one queuing channel, seen from both ends. */
struct fixture {
	uint8_t *sampling, *queue, *ack; /* MAP_SHARED: survives fork */
	struct mumu_info src, dst;
	struct mumu_port s_out, s_in, q_out, q_in;
};

#define MAX_MSG	   200
#define DEPTH	   4
#define REFRESH_NS 50000000ULL

static struct fixture *fx; /* for on_wait hooks */

static void region(struct mumu_info *info, const char *name, uint32_t kind, uint32_t access,
		   void *mem, uint64_t size)
{
	struct mumu_region *r = &info->regions[info->n_regions++];

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->gpa = (uint64_t)(uintptr_t)mem;
	r->size_bytes = size;
	r->kind = kind;
	r->access = access;
	r->max_message_bytes = MAX_MSG;
	r->max_nb_messages = kind == MUMU_REGION_SAMPLING_PORT ? 0 : DEPTH;
	r->refresh_period_ns = kind == MUMU_REGION_SAMPLING_PORT ? REFRESH_NS : 0;
}

static void *shared(uint64_t size)
{
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(m != MAP_FAILED);
	return m;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint64_t s = mumu_sampling_bytes(MAX_MSG), q = mumu_queue_bytes(MAX_MSG, DEPTH);
	enum { R = MUMU_ACCESS_READ, W = MUMU_ACCESS_WRITE };

	f->sampling = shared(s);
	f->queue = shared(q);
	f->ack = shared(MUMU_PAGE_BYTES);
	region(&f->src, "speed", MUMU_REGION_SAMPLING_PORT, W, f->sampling, s);
	region(&f->src, "cmd", MUMU_REGION_QUEUING_PORT, W, f->queue, q);
	region(&f->src, "cmd", MUMU_REGION_QUEUING_ACK, R, f->ack, MUMU_PAGE_BYTES);
	region(&f->dst, "speed", MUMU_REGION_SAMPLING_PORT, R, f->sampling, s);
	region(&f->dst, "cmd", MUMU_REGION_QUEUING_PORT, R, f->queue, q);
	region(&f->dst, "cmd", MUMU_REGION_QUEUING_ACK, W, f->ack, MUMU_PAGE_BYTES);
	assert_int_equal(mumu_port_open(&f->src, "speed", MUMU_REGION_SAMPLING_PORT, &f->s_out), 0);
	assert_int_equal(mumu_port_open(&f->dst, "speed", MUMU_REGION_SAMPLING_PORT, &f->s_in), 0);
	assert_int_equal(mumu_port_open(&f->src, "cmd", MUMU_REGION_QUEUING_PORT, &f->q_out), 0);
	assert_int_equal(mumu_port_open(&f->dst, "cmd", MUMU_REGION_QUEUING_PORT, &f->q_in), 0);
	fake_now = 1000000000ULL;
	real_clock = false;
	waits = 0;
	on_wait = NULL;
	fx = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	munmap(f->sampling, mumu_sampling_bytes(MAX_MSG));
	munmap(f->queue, mumu_queue_bytes(MAX_MSG, DEPTH));
	munmap(f->ack, MUMU_PAGE_BYTES);
	free(f);
	return 0;
}

static void test_open(void **state)
{
	struct fixture *f = *state;
	struct mumu_port p;
	struct mumu_info bad = f->dst;
	uint64_t size;
	bool w;

	assert_int_equal(mumu_port_open(&f->src, "nope", MUMU_REGION_SAMPLING_PORT, &p),
			 -MUMU_ENOENT);
	assert_int_equal(mumu_port_open(&f->src, "speed", MUMU_REGION_QUEUING_PORT, &p),
			 -MUMU_EINVAL);
	assert_int_equal(mumu_port_open(&f->src, "cmd", MUMU_REGION_SAMPLING_PORT, &p),
			 -MUMU_EINVAL);
	assert_null(mumu_region_find(&f->src, "speed", &size, &w)); /* a port, not a region */
	bad.n_regions = 2;					    /* the ACK page missing */
	assert_int_equal(mumu_port_open(&bad, "cmd", MUMU_REGION_QUEUING_PORT, &p), -MUMU_EINVAL);
	bad = f->dst;
	bad.regions[0].size_bytes += MUMU_PAGE_BYTES; /* not the size the ABI computes */
	assert_int_equal(mumu_port_open(&bad, "speed", MUMU_REGION_SAMPLING_PORT, &p),
			 -MUMU_EINVAL);
	bad = f->dst;
	bad.regions[2].access = MUMU_ACCESS_READ; /* both parts read-only */
	assert_int_equal(mumu_port_open(&bad, "cmd", MUMU_REGION_QUEUING_PORT, &p), -MUMU_EINVAL);
	bad = f->dst;
	bad.n_regions = 1000; /* a corrupt count is clamped, never overrun */
	assert_int_equal(mumu_port_open(&bad, "zz", MUMU_REGION_SAMPLING_PORT, &p), -MUMU_ENOENT);
}

static void test_sampling(void **state)
{
	struct fixture *f = *state;
	struct mumu_message_info mi;
	struct mumu_port_status st;
	char buf[MAX_MSG + 1];
	uint32_t len = 0;

	assert_int_equal(mumu_sampling_read(&f->s_in, buf, sizeof(buf), &len, &mi), -MUMU_EAGAIN);
	assert_int_equal(mumu_sampling_write(&f->s_out, "one", 3), 0);
	fake_now += 1000;
	assert_int_equal(mumu_sampling_read(&f->s_in, buf, sizeof(buf), &len, &mi), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(mi.seq, 1);
	assert_int_equal(mi.age_ns, 1000);
	assert_true(mi.valid);
	assert_int_equal(mumu_sampling_write(&f->s_out, "second", 6), 0);
	assert_int_equal(mumu_sampling_read(&f->s_in, buf, sizeof(buf), &len, &mi), 0);
	assert_int_equal(mi.seq, 2);
	assert_memory_equal(buf, "second", 6);
	/* Reading does not consume: the same message again, aged past RefreshPeriod: invalid. */
	fake_now += REFRESH_NS + 1;
	assert_int_equal(mumu_sampling_read(&f->s_in, buf, sizeof(buf), &len, &mi), 0);
	assert_int_equal(mi.seq, 2);
	assert_false(mi.valid);
	assert_int_equal(mi.age_ns, REFRESH_NS + 1);
	/* Sizes and directions. */
	assert_int_equal(mumu_sampling_write(&f->s_out, buf, MAX_MSG + 1), -MUMU_EMSGSIZE);
	assert_int_equal(mumu_sampling_write(&f->s_in, "x", 1), -MUMU_EPERM);
	assert_int_equal(mumu_sampling_read(&f->s_in, buf, 3, &len, &mi), -MUMU_EMSGSIZE);
	assert_int_equal(mumu_sampling_write(&f->s_out, buf, MAX_MSG), 0);
	assert_int_equal(mumu_port_status(&f->s_in, &st), 0);
	assert_int_equal(st.nb_messages, 3);
	assert_false(st.source);
	assert_int_equal(st.refresh_period_ns, REFRESH_NS);
}

/* The slot of message n, as a writer or a tamperer sees it. */
static struct mumu_sampling_slot *slot_of(struct fixture *f, uint64_t n)
{
	return (struct mumu_sampling_slot *)(f->sampling +
					     (n & 1) * mumu_sampling_slot_bytes(MAX_MSG));
}

/* The newest complete message's number, as the writer finds it. */
static uint64_t latest(struct fixture *f)
{
	uint64_t a = slot_of(f, 0)->seq, b = slot_of(f, 1)->seq;

	a = a == MUMU_SEQ_WRITING ? 0 : a;
	b = b == MUMU_SEQ_WRITING ? 0 : b;
	return a > b ? a : b;
}

/* A writer that dies mid-write leaves the last complete message readable. */
static void test_sampling_writer_dies(void **state)
{
	struct fixture *f = *state;
	struct mumu_sampling_slot *next;
	struct mumu_message_info mi;
	char buf[MAX_MSG];
	uint32_t len;

	assert_int_equal(mumu_sampling_write(&f->s_out, "last good", 9), 0);
	next = slot_of(f, latest(f) + 1);
	next->seq = MUMU_SEQ_WRITING; /* what a writer killed inside the copy leaves */
	memset(next + 1, 'X', 50);
	assert_int_equal(mumu_sampling_read(&f->s_in, buf, sizeof(buf), &len, &mi), 0);
	assert_int_equal(len, 9);
	assert_memory_equal(buf, "last good", 9);
	assert_int_equal(mi.seq, 1);
	/* A new writer (the restarted partition opens the port again) goes on from there. */
	assert_int_equal(mumu_port_open(&f->src, "speed", MUMU_REGION_SAMPLING_PORT, &f->s_out), 0);
	assert_int_equal(f->s_out.seq, 1);
	assert_int_equal(mumu_sampling_write(&f->s_out, "again", 5), 0);
	assert_int_equal(mumu_sampling_read(&f->s_in, buf, sizeof(buf), &len, &mi), 0);
	assert_int_equal(mi.seq, 2);
	assert_memory_equal(buf, "again", 5);
}

/* What a hostile or broken source can leave behind is refused, never copied past a buffer. */
static void test_sampling_hostile(void **state)
{
	struct fixture *f = *state;
	struct mumu_sampling_slot *s;
	struct mumu_message_info mi;
	char buf[MAX_MSG];
	uint32_t len;

	assert_int_equal(mumu_sampling_write(&f->s_out, "ok", 2), 0);
	s = slot_of(f, latest(f));
	s->length = MAX_MSG + 1000;
	assert_int_equal(mumu_sampling_read(&f->s_in, buf, sizeof(buf), &len, &mi), -MUMU_EBADMSG);
	s->length = 2;
	slot_of(f, 0)->seq = 77; /* an odd number in the even slot: never where it is looked for */
	assert_int_equal(mumu_sampling_read(&f->s_in, buf, sizeof(buf), &len, &mi), -MUMU_EBADMSG);
	slot_of(f, 0)->seq = MUMU_SEQ_WRITING;
	slot_of(f, 1)->seq = MUMU_SEQ_WRITING; /* the first write never finished: nothing yet */
	assert_int_equal(mumu_sampling_read(&f->s_in, buf, sizeof(buf), &len, &mi), -MUMU_EAGAIN);
}

static void test_queuing(void **state)
{
	struct fixture *f = *state;
	struct mumu_message_info mi;
	struct mumu_port_status st;
	char buf[MAX_MSG], msg[16];
	uint32_t len;

	assert_int_equal(mumu_queuing_receive(&f->q_in, buf, sizeof(buf), &len, 0, &mi),
			 -MUMU_EAGAIN);
	for (int i = 1; i <= DEPTH; i++) {
		snprintf(msg, sizeof(msg), "m%d", i);
		assert_int_equal(mumu_queuing_send(&f->q_out, msg, (uint32_t)strlen(msg), 0), 0);
	}
	assert_int_equal(mumu_port_status(&f->q_out, &st), 0);
	assert_int_equal(st.nb_messages, DEPTH);
	/* Full: refused, never overwritten; the receiver will hear of it. */
	assert_int_equal(mumu_queuing_send(&f->q_out, "lost?", 5, 0), -MUMU_EAGAIN);
	assert_int_equal(mumu_queuing_send(&f->q_in, "x", 1, 0), -MUMU_EPERM);
	assert_int_equal(mumu_queuing_send(&f->q_out, buf, MAX_MSG + 1, 0), -MUMU_EMSGSIZE);
	for (int i = 1; i <= DEPTH; i++) {
		snprintf(msg, sizeof(msg), "m%d", i);
		assert_int_equal(mumu_queuing_receive(&f->q_in, buf, sizeof(buf), &len, 0, &mi), 0);
		assert_int_equal(len, strlen(msg));
		assert_memory_equal(buf, msg, len);
		assert_int_equal(mi.seq, (uint64_t)i);
		assert_int_equal(mi.overflowed, i == 1);
	}
	assert_int_equal(mumu_queuing_receive(&f->q_in, buf, sizeof(buf), &len, 0, &mi),
			 -MUMU_EAGAIN);
	/* The ring wraps. */
	for (int i = 0; i < 3 * DEPTH; i++) {
		assert_int_equal(mumu_queuing_send(&f->q_out, &i, sizeof(i), 0), 0);
		assert_int_equal(mumu_queuing_receive(&f->q_in, buf, sizeof(buf), &len, 0, &mi), 0);
		assert_int_equal(mi.seq, (uint64_t)(DEPTH + 1 + i));
		assert_memory_equal(buf, &i, sizeof(i));
		assert_false(mi.overflowed);
	}
	assert_int_equal(mumu_queuing_send(&f->q_out, "big", 3, 0), 0);
	assert_int_equal(mumu_queuing_receive(&f->q_in, buf, 2, &len, 0, &mi), -MUMU_EMSGSIZE);
	assert_int_equal(mumu_queuing_receive(&f->q_in, buf, 3, &len, 0, &mi), 0); /* kept */
}

static void drain_one(void)
{
	struct mumu_message_info mi;
	char buf[MAX_MSG];
	uint32_t len;

	assert_int_equal(mumu_queuing_receive(&fx->q_in, buf, sizeof(buf), &len, 0, &mi), 0);
}

static void test_queuing_timeouts(void **state)
{
	struct fixture *f = *state;
	struct mumu_message_info mi;
	char buf[MAX_MSG];
	uint32_t len;

	assert_int_equal(mumu_queuing_receive(&f->q_in, buf, sizeof(buf), &len, 3, &mi),
			 -MUMU_ETIMEDOUT);
	assert_int_equal(waits, 3);
	for (int i = 0; i < DEPTH; i++)
		assert_int_equal(mumu_queuing_send(&f->q_out, "x", 1, 0), 0);
	waits = 0;
	assert_int_equal(mumu_queuing_send(&f->q_out, "y", 1, 2), -MUMU_ETIMEDOUT);
	assert_int_equal(waits, 2);
	/* The receiver makes room during the wait: the send goes through after one window. */
	waits = 0;
	on_wait = drain_one;
	assert_int_equal(mumu_queuing_send(&f->q_out, "z", 1, 5), 0);
	assert_int_equal(waits, 1);
}

static void test_queuing_hostile(void **state)
{
	struct fixture *f = *state;
	struct mumu_queue_header *h = (struct mumu_queue_header *)f->queue;
	struct mumu_queue_ack *a = (struct mumu_queue_ack *)f->ack;
	struct mumu_queue_slot *s = (struct mumu_queue_slot *)(f->queue + sizeof(*h));
	struct mumu_message_info mi;
	struct mumu_port_status st;
	char buf[MAX_MSG];
	uint32_t len;

	assert_int_equal(mumu_queuing_send(&f->q_out, "x", 1, 0), 0);
	s->length = MAX_MSG + 1;
	assert_int_equal(mumu_queuing_receive(&f->q_in, buf, sizeof(buf), &len, 0, &mi),
			 -MUMU_EBADMSG);
	h->head = 1000; /* more waiting than the queue holds */
	assert_int_equal(mumu_queuing_receive(&f->q_in, buf, sizeof(buf), &len, 0, &mi),
			 -MUMU_EBADMSG);
	assert_int_equal(mumu_port_status(&f->q_in, &st), -MUMU_EBADMSG);
	h->head = 1;
	a->tail = 5; /* the receiver claims more than was sent */
	assert_int_equal(mumu_queuing_send(&f->q_out, "x", 1, 0), -MUMU_EBADMSG);
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Message n: 1 to MAX_MSG bytes, each a function of n and its position. */
static uint32_t pattern(uint64_t n, uint8_t *buf)
{
	uint32_t len = 1 + (uint32_t)(n * 7919 % MAX_MSG);

	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(n * 31 + i);
	return len;
}

static bool matches(uint64_t n, const uint8_t *buf, uint32_t len)
{
	uint8_t want[MAX_MSG];

	return len == pattern(n, want) && memcmp(buf, want, len) == 0;
}

static pid_t start_writer(struct fixture *f, bool queuing)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t msg[MAX_MSG];

		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed assertion leaves no writer behind */
		if (getppid() == 1)
			_exit(0);
		pin(0);
		/* A partition restarted: it opens its port again. */
		if (mumu_port_open(&f->src, "speed", MUMU_REGION_SAMPLING_PORT, &f->s_out) < 0)
			_exit(1);
		for (;;) {
			if (queuing) {
				uint64_t n = ((struct mumu_queue_header *)f->queue)->head + 1;

				mumu_queuing_send(&f->q_out, msg, pattern(n, msg), 0);
			} else {
				uint64_t n = latest(f) + 1;

				mumu_sampling_write(&f->s_out, msg, pattern(n, msg));
			}
		}
	}
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * A writer on core 0, this reader on core 1, the writer killed a random 0-2 ms after its
 * first message and replaced, 300 times: every message read is whole, numbers never go back, and after the
 * last kill the last message is still there.
 */
static void test_sampling_torn_read_stress(void **state)
{
	struct fixture *f = *state;
	uint64_t reads = 0, last = 0, distinct = 0, starved = 0;
	struct mumu_message_info mi;
	uint8_t buf[MAX_MSG];
	uint32_t len;
	int r;

	real_clock = true;
	pin(1);
	srand(42);
	for (int kill_no = 0; kill_no < 300; kill_no++) {
		pid_t pid = start_writer(f, false);
		uint64_t until = 0, before = last;

		/* The clock runs from this writer's first message on: each one makes progress. */
		while (until == 0 || mumu_now_ns() < until) {
			if (until == 0 && last != before)
				until = mumu_now_ns() + (uint64_t)(rand() % 2000) * 1000;
			r = mumu_sampling_read(&f->s_in, buf, sizeof(buf), &len, &mi);
			if (r == -MUMU_EAGAIN && last == 0)
				continue;
			if (r ==
			    -MUMU_EBADMSG) { /* lapped on every try by a writer that never rests */
				starved++;
				continue;
			}
			assert_int_equal(r, 0);
			if (!matches(mi.seq, buf, len))
				fail_msg("torn message %" PRIu64 " (%u bytes)", mi.seq, len);
			assert_true(mi.seq >= last);
			distinct += mi.seq != last;
			last = mi.seq;
			reads++;
		}
		stop(pid);
	}
	assert_int_equal(mumu_sampling_read(&f->s_in, buf, sizeof(buf), &len, &mi), 0);
	assert_true(matches(mi.seq, buf, len));
	assert_true(mi.seq >= last);
	print_message("sampling stress: %" PRIu64 " reads of %" PRIu64 " distinct messages, "
		      "last %" PRIu64 ", %" PRIu64 " reads lapped on every try\n",
		      reads, distinct, mi.seq, starved);
	assert_true(distinct >= 300);
}

/* The same for a queue: every message arrives once, whole, in order, across 300 kills. */
static void test_queuing_stress(void **state)
{
	struct fixture *f = *state;
	struct mumu_message_info mi;
	uint64_t expect = 1;
	uint8_t buf[MAX_MSG];
	uint32_t len;
	int r;

	real_clock = true;
	pin(1);
	srand(7);
	for (int kill_no = 0; kill_no < 300; kill_no++) {
		pid_t pid = start_writer(f, true);
		uint64_t until = 0, before = expect;

		while (until == 0 || mumu_now_ns() < until) {
			if (until == 0 && expect != before)
				until = mumu_now_ns() + (uint64_t)(rand() % 2000) * 1000;
			r = mumu_queuing_receive(&f->q_in, buf, sizeof(buf), &len, 0, &mi);
			if (r == -MUMU_EAGAIN)
				continue;
			assert_int_equal(r, 0);
			assert_int_equal(mi.seq, expect);
			if (!matches(mi.seq, buf, len))
				fail_msg("torn message %" PRIu64 " (%u bytes)", mi.seq, len);
			expect++;
		}
		stop(pid);
	}
	while (mumu_queuing_receive(&f->q_in, buf, sizeof(buf), &len, 0, &mi) == 0) {
		assert_int_equal(mi.seq, expect);
		assert_true(matches(mi.seq, buf, len));
		expect++;
	}
	print_message("queuing stress: %" PRIu64 " messages in order\n", expect - 1);
	assert_true(expect > 300); /* every writer sent at least one */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sampling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sampling_writer_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sampling_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queuing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queuing_timeouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queuing_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sampling_torn_read_stress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queuing_stress, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
