/* SPDX-License-Identifier: MIT */
/*
 * bench_port.bin: port throughput and latency (bench/ports.sh). Its role comes from its ports:
 *   tx (source) / rx (destination), sampling or queuing: for RUN_NS the writer writes and the
 *     reader reads as fast as they can; each prints messages moved and the time taken.
 *   ping (source) + pong (destination): ROUNDS round trips, each timed with the TSC;
 *   ping (destination) + pong (source): echoes every ping back as a pong.
 *   a shared memory `rawSIZE` (the reference): the same loops as tx/rx with a plain memcpy
 *     of SIZE bytes and a sequence number, no port protocol; the writer has it writable.
 *     `rawtSIZE`: the same with a timestamp (mumu_now_ns) written and read with each message,
 *     as a sampling port's message carries one.
 *   no region at all: the cost of a timestamp (mumu_now_ns) and of a bare rdtsc.
 * Everything happens in the first window; afterwards it yields.
 */
#include "lib/mumu.h"
#include "lib/port.h"

#define RUN_NS 40000000ULL /* 40 ms of each window */
#define ROUNDS 400

static uint8_t buf[MUMU_PORT_MESSAGE_MAX];
static uint64_t rtt[ROUNDS];

static bool has(const struct mumu_info *info, const char *name, struct mumu_port *p)
{
	return mumu_port_open(info, name, MUMU_REGION_SAMPLING_PORT, p) == 0 ||
	       mumu_port_open(info, name, MUMU_REGION_QUEUING_PORT, p) == 0;
}

static bool sampling(const struct mumu_port *p)
{
	return p->kind == MUMU_REGION_SAMPLING_PORT;
}

static int put(struct mumu_port *p, uint32_t len)
{
	return sampling(p) ? mumu_sampling_write(p, buf, len) : mumu_queuing_send(p, buf, len, 0);
}

/* The next message after seq (sampling: a newer one; queuing: any); its number or 0. */
static uint64_t get(struct mumu_port *p, uint64_t seq)
{
	struct mumu_message_info mi;
	uint32_t len;
	int r = sampling(p) ? mumu_sampling_read(p, buf, sizeof(buf), &len, &mi)
			    : mumu_queuing_receive(p, buf, sizeof(buf), &len, 0, &mi);

	return r == 0 && mi.seq != seq ? mi.seq : 0;
}

static void sort(uint64_t *v, int n)
{
	for (int gap = n / 2; gap > 0; gap /= 2)
		for (int i = gap; i < n; i++)
			for (int j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
				uint64_t t = v[j];

				v[j] = v[j - gap];
				v[j - gap] = t;
			}
}

static void throughput(struct mumu_port *p, const char *kind)
{
	uint64_t t0 = mumu_now_ns(), t = t0, n = 0, seq = 0, s;
	uint32_t size = p->max_message_bytes;

	while (t - t0 < RUN_NS) {
		for (int i = 0; i < 16; i++) {
			if (p->source) {
				n += put(p, size) == 0;
			} else if ((s = get(p, seq)) != 0) {
				seq = s;
				n++;
			}
		}
		t = mumu_now_ns();
	}
	mumu_printf("%s %s size=%u msgs=%lu ns=%lu\n", kind, p->source ? "tx" : "rx", size, n,
		    t - t0);
}

static void pinger(struct mumu_port *ping, struct mumu_port *pong, const struct mumu_info *info)
{
	uint64_t seq = 0, khz = info->tsc_khz ? info->tsc_khz : 1000000;
	int done = 0;

	for (int i = 0; i < ROUNDS; i++) {
		uint64_t t0 = mumu_rdtsc(), deadline = t0 + khz * 100; /* 100 ms */

		if (put(ping, ping->max_message_bytes) < 0)
			break;
		while ((seq = get(pong, seq)) == 0 && mumu_rdtsc() < deadline)
			;
		if (seq == 0)
			break;
		rtt[done++] = (mumu_rdtsc() - t0) * 1000000 / khz;
	}
	sort(rtt, done);
	mumu_printf("%s rtt size=%u rounds=%d p50_ns=%lu p99_ns=%lu\n",
		    sampling(ping) ? "sampling" : "queuing", ping->max_message_bytes, done,
		    done ? rtt[done / 2] : 0, done ? rtt[done * 99 / 100] : 0);
}

static void echoer(struct mumu_port *ping, struct mumu_port *pong)
{
	uint64_t t0 = mumu_now_ns(), seq = 0, s;

	while (mumu_now_ns() - t0 < 4 * RUN_NS)
		if ((s = get(ping, seq)) != 0) {
			seq = s;
			put(pong, pong->max_message_bytes);
		}
}

/* The reference: memcpy in and out of shared memory, a sequence number after the data, and
 * with stamp a timestamp beside it. */
static void raw(volatile uint64_t *region, bool writer, uint32_t size, bool stamp)
{
	uint64_t t0 = mumu_now_ns(), t = t0, n = 0;

	while (t - t0 < RUN_NS) {
		for (int i = 0; i < 16; i++) {
			if (writer) {
				__builtin_memcpy((void *)(region + 8), buf, size);
				if (stamp)
					region[1] = mumu_now_ns();
				__atomic_store_n(region, ++n, __ATOMIC_RELEASE);
			} else {
				__builtin_memcpy(buf, (const void *)(region + 8), size);
				n += __atomic_load_n(region, __ATOMIC_ACQUIRE) != 0;
				if (stamp)
					n += region[1] == 1; /* read, as a reader checks its age */
			}
		}
		t = mumu_now_ns();
	}
	mumu_printf("raw%s %s size=%u msgs=%lu ns=%lu\n", stamp ? "t" : "", writer ? "tx" : "rx",
		    size, n, t - t0);
}

static void clock_cost(void)
{
	uint64_t t0 = mumu_now_ns(), t1, sum = 0;

	for (int i = 0; i < 100000; i++)
		sum += mumu_now_ns();
	t1 = mumu_now_ns();
	for (int i = 0; i < 100000; i++)
		sum += mumu_rdtsc();
	mumu_printf("clock now_ns=%lu rdtsc_ns=%lu (%lu)\n", (t1 - t0) / 100000,
		    (mumu_now_ns() - t1) / 100000, sum & 1);
}

int main(uint64_t vcpu, const struct mumu_info *info)
{
	const struct mumu_region *r = &info->regions[0];
	struct mumu_port a, b;

	if (info->n_regions > 0 && r->kind == MUMU_REGION_SHARED_MEMORY && r->name[0] == 'r') {
		bool stamp = r->name[3] == 't';
		uint32_t size = 0;

		for (const char *c = r->name + 3 + stamp; *c >= '0' && *c <= '9'; c++)
			size = size * 10 + (uint32_t)(*c - '0');
		if (size + 64 <= r->size_bytes && size <= sizeof(buf))
			raw((volatile uint64_t *)(uintptr_t)r->gpa, r->access == MUMU_ACCESS_WRITE,
			    size, stamp);
	} else if (has(info, "tx", &a) || has(info, "rx", &a))
		throughput(&a, sampling(&a) ? "sampling" : "queuing");
	else if (has(info, "ping", &a) && has(info, "pong", &b))
		a.source ? pinger(&a, &b, info) : echoer(&a, &b);
	else if (info->n_regions == 0)
		clock_cost();
	for (;;)
		mumu_yield();
}
