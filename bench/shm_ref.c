/* SPDX-License-Identifier: MIT */
/*
 * The reference for port benchmarks (bench/ports.sh): plain memcpy between two threads on
 * cores 0 and 1 through shared memory, no protocol beyond a sequence number.
 *   shm_ref throughput SIZE: 40 ms of a writer copying SIZE bytes in and a reader copying
 *                            them out; prints the messages each moved.
 *   shm_ref pingpong SIZE:   400 round trips of SIZE bytes; prints p50/p99 in ns.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUN_NS 40000000ULL
#define ROUNDS 400

static uint8_t *shared[2];
static size_t size;
static uint64_t seq[2] __attribute__((aligned(64)));
static volatile int go;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *reader(void *arg)
{
	uint8_t *local = malloc(size);
	uint64_t n = 0, t0, t;

	pin(1);
	while (!go)
		;
	t0 = t = now_ns();
	while (t - t0 < RUN_NS) {
		for (int i = 0; i < 16; i++) {
			memcpy(local, shared[0], size);
			n += __atomic_load_n(&seq[0], __ATOMIC_ACQUIRE) != 0;
		}
		t = now_ns();
	}
	printf("ref rx size=%zu msgs=%" PRIu64 " ns=%" PRIu64 "\n", size, n, t - t0);
	free(local);
	return arg;
}

static void *echoer(void *arg)
{
	uint8_t *local = malloc(size);
	uint64_t last = 0, s;

	pin(1);
	for (int i = 0; i < ROUNDS; i++) {
		while ((s = __atomic_load_n(&seq[0], __ATOMIC_ACQUIRE)) == last)
			;
		last = s;
		memcpy(local, shared[0], size);
		memcpy(shared[1], local, size);
		__atomic_store_n(&seq[1], s, __ATOMIC_RELEASE);
	}
	free(local);
	return arg;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static uint64_t rtt[ROUNDS];
	uint8_t *msg;
	pthread_t th;

	if (argc != 3 || (size = strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: shm_ref throughput|pingpong SIZE\n");
		return 2;
	}
	msg = calloc(1, size);
	shared[0] = aligned_alloc(64, (size + 63) & ~63UL);
	shared[1] = aligned_alloc(64, (size + 63) & ~63UL);
	memset(shared[0], 0, size);
	pin(0);
	if (strcmp(argv[1], "throughput") == 0) {
		uint64_t n = 0, t0, t;

		pthread_create(&th, NULL, reader, NULL);
		go = 1;
		t0 = t = now_ns();
		while (t - t0 < RUN_NS) {
			for (int i = 0; i < 16; i++) {
				memcpy(shared[0], msg, size);
				__atomic_store_n(&seq[0], ++n, __ATOMIC_RELEASE);
			}
			t = now_ns();
		}
		pthread_join(th, NULL);
		printf("ref tx size=%zu msgs=%" PRIu64 " ns=%" PRIu64 "\n", size, n, t - t0);
	} else {
		pthread_create(&th, NULL, echoer, NULL);
		for (int i = 0; i < ROUNDS; i++) {
			uint64_t t0 = now_ns();

			memcpy(shared[0], msg, size);
			__atomic_store_n(&seq[0], (uint64_t)i + 1, __ATOMIC_RELEASE);
			while (__atomic_load_n(&seq[1], __ATOMIC_ACQUIRE) != (uint64_t)i + 1)
				;
			memcpy(msg, shared[1], size);
			rtt[i] = now_ns() - t0;
		}
		pthread_join(th, NULL);
		qsort(rtt, ROUNDS, sizeof(rtt[0]), cmp);
		printf("ref rtt size=%zu rounds=%d p50_ns=%" PRIu64 " p99_ns=%" PRIu64 "\n", size,
		       ROUNDS, rtt[ROUNDS / 2], rtt[ROUNDS * 99 / 100]);
	}
	return 0;
}
