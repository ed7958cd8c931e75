/* SPDX-License-Identifier: MIT */
/* Unit tests of the supervisor's pure parts: deadlines, histograms, console lines, module
 * schedule decisions, the restart budget, the trace and its SVG rendering; and which VMM
 * window enforcement may stop. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/console.h"
#include "supervisor/control.h"
#include "supervisor/gantt.h"
#include "supervisor/hm.h"
#include "supervisor/output.h"
#include "supervisor/sched.h"
#include "supervisor/stats.h"

/* Drift: every planned start is exactly epoch + f * frame + offset, for 1,000 frames. */
static void test_no_drift(void **state)
{
	const uint64_t epoch = 123456789, frame = 100000000, offset = 50000000;
	uint64_t prev = 0;

	for (uint64_t f = 0; f < 1000; f++) {
		uint64_t t = sup_sched_planned_ns(epoch, frame, f, offset);

		assert_true(t == epoch + f * frame + offset);
		if (f)
			assert_true(t - prev == frame);
		prev = t;
	}
	assert_true(sup_sched_planned_ns(epoch, frame, 999, offset) - epoch == 99950000000ULL);
}

/* A window is kicked IPC_KICK_LEAD_NS ahead, never before the core's last window ends. */
/* A check and its CPU probe keep SUP_CHECK_CLEAR_NS from every window boundary on its core. */
static void test_check_time(void **state)
{
	const uint64_t ms = 1000000;
	struct pol_core_window two[] = { { .offset_ns = 0, .duration_ns = ms },
					 { .offset_ns = 2 * ms, .duration_ns = ms } };
	struct pol_core_window one[] = { { .offset_ns = 0, .duration_ns = 5 * ms } };
	struct pol_core_window near[] = { { .offset_ns = 0, .duration_ns = ms },
					  { .offset_ns = 3300000, .duration_ns = 5 * ms } };
	struct pol_core_window dense[32];

	/* Nothing near: the grace. */
	assert_int_equal(sup_check_time(5 * ms, 0, 10 * ms, one, 1), 5 * ms + SUP_ENFORCE_GRACE_NS);
	/* The grace of the window at 0 ends where the one at 2 ms ends: past it. */
	assert_int_equal(sup_check_time(ms, 0, 4 * ms, two, 2), 3 * ms + SUP_CHECK_CLEAR_NS);
	/* ... and in the next frame, where the first window ends at 5 ms. */
	assert_int_equal(sup_check_time(3 * ms, 0, 4 * ms, two, 2), 5 * ms + SUP_CHECK_CLEAR_NS);
	/* Boundaries 0.2 ms apart: past both. */
	for (size_t i = 0; i < 32; i++)
		dense[i] =
		    (struct pol_core_window){ .offset_ns = 2 * ms * i, .duration_ns = 1800000 };
	assert_int_equal(sup_check_time(1800000, 0, 64 * ms, dense, 32),
			 4 * ms + SUP_CHECK_CLEAR_NS);
	/* A boundary 0.3 ms after the grace: clear of the check, not of its CPU probe. */
	assert_int_equal(sup_check_time(ms, 0, 10 * ms, near, 2), 3300000 + SUP_CHECK_CLEAR_NS);
	/* Never earlier than the grace, whatever the windows. */
	assert_true(sup_check_time(63800000, 0, 64 * ms, dense, 32) >=
		    63800000 + SUP_ENFORCE_GRACE_NS);
}

static void test_kick_time(void **state)
{
	const uint64_t start = 50000000;

	(void)state;
	assert_int_equal(sup_kick_time(start, 0), start - IPC_KICK_LEAD_NS);
	assert_int_equal(sup_kick_time(start, start - 2 * IPC_KICK_LEAD_NS),
			 start - IPC_KICK_LEAD_NS);
	assert_int_equal(sup_kick_time(start, start - IPC_KICK_LEAD_NS / 2),
			 start - IPC_KICK_LEAD_NS / 2);
	assert_int_equal(sup_kick_time(start, start), start); /* back to back: at the boundary */
	assert_int_equal(sup_kick_time(IPC_KICK_LEAD_NS / 2, 0), 0); /* the first instant */
}

/* Kicked ahead of a hand-over: the lead, but never near the leaving window's end. */
static void test_kick_ahead(void **state)
{
	const uint64_t start = 50000000;

	(void)state;
	assert_int_equal(sup_kick_ahead(start, 0), start - IPC_KICK_LEAD_NS);
	assert_int_equal(sup_kick_ahead(start, start), start - IPC_KICK_LEAD_NS); /* in it */
	/* The lead lands on the end (a gap of one lead) or near it: before it instead. */
	assert_int_equal(sup_kick_ahead(start, start - IPC_KICK_LEAD_NS),
			 start - IPC_KICK_LEAD_NS - SUP_CHECK_CLEAR_NS);
	assert_int_equal(sup_kick_ahead(start, start - IPC_KICK_LEAD_NS - SUP_CHECK_CLEAR_NS / 2),
			 start - IPC_KICK_LEAD_NS - 3 * SUP_CHECK_CLEAR_NS / 2);
	/* Far from it: the lead. */
	assert_int_equal(sup_kick_ahead(start, start - 2 * IPC_KICK_LEAD_NS),
			 start - IPC_KICK_LEAD_NS);
}

/* Two partitions on core 0 back to back, a third on cores 0 and 1, one alone on core 1. */
static void sched_system(struct pol_system *sys, struct pol_partition *p, struct pol_schedule *s,
			 struct pol_window *w, uint64_t busy_ns)
{
	memset(sys, 0, sizeof(*sys));
	memset(p, 0, 4 * sizeof(*p));
	for (int i = 0; i < 4; i++) {
		p[i].name[0] = (char)('a' + i);
		p[i].n_cores = 1;
	}
	p[2].n_cores = 2;
	p[2].cores[1] = (struct pol_core_mapping){ .logical_core_id = 1, .physical_core_id = 1 };
	p[3].cores[0].physical_core_id = 1;
	w[0] = (struct pol_window){ .partition = 0, .offset_ns = 0, .duration_ns = 4000000 };
	w[1] = (struct pol_window){ .partition = 1, .offset_ns = 4000000, .duration_ns = 4000000 };
	w[2] = (struct pol_window){ .partition = 2, .offset_ns = 8000000, .duration_ns = busy_ns };
	w[3] = (struct pol_window){ .partition = 3, .offset_ns = 0, .duration_ns = 1000000 };
	*s = (struct pol_schedule){
		.id = 1, .major_frame_ns = 10000000, .n_windows = 4, .windows = w
	};
	sys->partitions = p;
	sys->n_partitions = 4;
	sys->schedules = s;
	sys->n_schedules = 1;
}

static bool has_baton(const struct sup_baton *b, size_t n, size_t from, uint32_t from_vcpu,
		      size_t to, uint32_t to_vcpu)
{
	for (size_t i = 0; i < n; i++)
		if (b[i].from == from && b[i].from_vcpu == from_vcpu && b[i].to == to &&
		    b[i].to_vcpu == to_vcpu)
			return true;
	return false;
}

/* One baton per pair of consecutive windows of two partitions on a core, the frame's end
 * wrapping to its start, each VMM's own indexes counted in table order. */
static void test_batons_plan(void **state)
{
	struct pol_system sys;
	struct pol_partition p[4];
	struct pol_schedule s;
	struct pol_window w[4];
	struct sup_baton b[16];
	uint32_t idx[4] = { 0 };
	size_t n;

	(void)state;
	sched_system(&sys, p, &s, w, 2000000);
	n = sup_batons_plan(&sys, NULL, b, 16);
	/* core 0: a -> b -> c -> a; core 1: c (vCPU 1) -> d -> c (vCPU 1) */
	assert_int_equal(n, 5);
	assert_true(has_baton(b, n, 0, 0, 1, 0));
	assert_true(has_baton(b, n, 1, 0, 2, 0));
	assert_true(has_baton(b, n, 2, 0, 0, 0));
	assert_true(has_baton(b, n, 3, 0, 2, 1));
	assert_true(has_baton(b, n, 2, 1, 3, 0));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(b[i].from_idx, idx[b[i].from]++);
		assert_int_equal(b[i].to_idx, idx[b[i].to]++);
		assert_int_equal(b[i].fd, -1);
	}
	/* Bounded by the room given. */
	assert_int_equal(sup_batons_plan(&sys, NULL, b, 2), 2);
	/* none on a real-time core: core 1's two go, core 0's three stay */
	assert_int_equal(sup_batons_plan(&sys, (const uint64_t[POL_CPU_MAX / 64]){ 2 }, b, 16), 3);
	for (size_t i = 0; i < 3; i++)
		assert_true(b[i].from != 3 && b[i].to != 3);
	/* A partition alone on a core hands over to nobody. */
	sys.n_partitions = 1;
	s.n_windows = 1;
	assert_int_equal(sup_batons_plan(&sys, NULL, b, 16), 0);
}

/* Real-time vCPUs only where the windows leave the kernel's budget room. */
static void test_core_realtime(void **state)
{
	struct pol_system sys;
	struct pol_partition p[4];
	struct pol_schedule s;
	struct pol_window w[4];

	(void)state;
	/* Core 1: two 1 ms windows of 10 ms, and a spin each: far under 95 %. */
	sched_system(&sys, p, &s, w, 1000000);
	assert_true(sup_core_realtime(&sys, 1, 950000, 1000000));
	/* Core 0: 9 ms of windows and three spins of 0.5 ms: over. */
	assert_false(sup_core_realtime(&sys, 0, 950000, 1000000));
	assert_true(sup_core_realtime(&sys, 0, -1, 1000000)); /* no budget */
	/* 8.5 ms and two spins: 9.5 ms of 10, over 94 % (the budget less 1 %). */
	sched_system(&sys, p, &s, w, 0);
	s.n_windows = 2;
	w[1].duration_ns = 4500000;
	assert_false(sup_core_realtime(&sys, 0, 950000, 1000000));
	/* ... 7 ms and two spins fit. */
	w[1].duration_ns = 3000000;
	assert_true(sup_core_realtime(&sys, 0, 950000, 1000000));
	assert_false(sup_core_realtime(&sys, 0, 0, 1000000)); /* no real-time at all */
	assert_false(sup_core_realtime(&sys, 0, 950000, 0));  /* nonsense from /proc */
}

static void test_hist(void **state)
{
	struct sup_hist h = { 0 };

	assert_int_equal(sup_hist_percentile(&h, 50), 0);
	for (uint64_t v = 1; v <= 1000; v++)
		sup_hist_add(&h, v * 1000);
	assert_int_equal(h.n, 1000);
	assert_int_equal(h.max, 1000000);
	/* Within the histogram's 6.25 % resolution, never below the true value. */
	assert_true(sup_hist_percentile(&h, 50) >= 500000);
	assert_true(sup_hist_percentile(&h, 50) <= 500000 * 1.0625);
	assert_true(sup_hist_percentile(&h, 99) >= 990000);
	assert_true(sup_hist_percentile(&h, 99) <= 1000000);
	assert_int_equal(sup_hist_percentile(&h, 100), 1000000);
	sup_hist_add(&h, 0);
	sup_hist_add(&h, UINT64_MAX);
	assert_true(h.max == UINT64_MAX);
}

static void test_hist_small(void **state)
{
	struct sup_hist h = { 0 };

	for (int i = 0; i < 99; i++)
		sup_hist_add(&h, 7);
	sup_hist_add(&h, 12345);
	assert_int_equal(sup_hist_percentile(&h, 50), 7);
	assert_int_equal(sup_hist_percentile(&h, 99), 7);
	assert_int_equal(sup_hist_percentile(&h, 100), 12345);
}

static struct pol_partition pol = { .name = "nav" };
static struct sup_output direct; /* not started: writes at once */

static size_t feed(struct sup_partition *p, const char *in, size_t len, char *out, size_t size,
		   int flush)
{
	int fds[2];
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	sup_console_feed(p, (const uint8_t *)in, len, &direct, fds[1]);
	if (flush)
		sup_console_flush(p, &direct, fds[1]);
	close(fds[1]);
	n = read(fds[0], out, size - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

/* Queued lines come out whole and in order, on their own fds. */
static void test_output_order(void **state)
{
	static struct sup_output o;
	char buf[256];
	int a[2], b[2];
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(sup_output_start(&o, 2), 0);
	assert_true(sup_output_put(&o, 0, a[1], "one\n", 4));
	assert_true(sup_output_put(&o, 1, b[1], "err\n", 4));
	assert_true(sup_output_put(&o, 0, a[1], "two\n", 4));
	assert_int_equal(sup_output_stop(&o, 1000000000ULL), 0);
	n = read(a[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	assert_string_equal(buf, "one\ntwo\n");
	n = read(b[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	assert_string_equal(buf, "err\n");
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
}

/* A reader that never reads: puts never block, the overflow is dropped and counted, each
 * owner within its own share. */
static void test_output_stalled(void **state)
{
	static struct sup_output o;
	static char line[SUP_OUTPUT_LINE_MAX];
	uint64_t refused = 0;
	int fds[2];

	(void)state;
	signal(SIGPIPE, SIG_IGN); /* as the supervisor does */
	memset(line, 'x', sizeof(line));
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(sup_output_start(&o, 2), 0);
	for (int i = 0; i < 4 * SUP_OUTPUT_LINES; i++) /* 16 MiB into a 64 KiB pipe */
		refused += !sup_output_put(&o, 0, fds[1], line, sizeof(line));
	assert_true(refused >= 2 * SUP_OUTPUT_LINES);
	/* Owner 0 filled its half of the queue, not owner 1's. */
	assert_true(sup_output_put(&o, 1, fds[1], line, sizeof(line)));
	/* Gives up after 0.1 s on the lines the pipe cannot take. */
	assert_true(sup_output_stop(&o, 100000000ULL) > refused);
	close(fds[0]); /* the writer, still blocked, gets EPIPE and ends */
	close(fds[1]);
}

/* check_req: what sup_control_check says of req, in out. */
static int check_req(const struct ipc_ctl_request *req, char *out, size_t size)
{
	FILE *f = fmemopen(out, size, "w");
	int r;

	assert_non_null(f);
	r = sup_control_check(req, f);
	fclose(f);
	return r;
}

/* Every field of a control request is checked, each refusal with its own reason. */
static void test_control_check(void **state)
{
	struct ipc_ctl_request req = { .op = IPC_CTL_STATUS, .flags = IPC_CTL_JSON };
	char out[128];

	(void)state;
	assert_int_equal(check_req(&req, out, sizeof(out)), 0);
	req.op = IPC_CTL_OP_COUNT;
	assert_int_equal(check_req(&req, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "unknown operation 6\n");
	req.op = IPC_CTL_STATUS;
	req.flags = 0x80;
	assert_int_equal(check_req(&req, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "unknown flags 0x80\n");
	req.flags = 0;
	req.reserved = 7;
	assert_int_equal(check_req(&req, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "the reserved field is 0x7, not 0\n");
	req.reserved = 0;
	req.op = IPC_CTL_RESTART;
	assert_int_equal(check_req(&req, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "which partition?\n");
	memset(req.partition, 'a', sizeof(req.partition));
	assert_int_equal(check_req(&req, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "the partition name is not terminated\n");
}

static void test_console_lines(void **state)
{
	struct sup_partition p = { .pol = &pol };
	char out[4096];

	feed(&p, "hel", 3, out, sizeof(out), 0);
	assert_string_equal(out, ""); /* nothing until the line is complete */
	feed(&p, "lo\nworld\r\nand", 13, out, sizeof(out), 0);
	assert_string_equal(out, "[nav] hello\n[nav] world\n");
	feed(&p, "", 0, out, sizeof(out), 1);
	assert_string_equal(out, "[nav] and\n");
	feed(&p, "\033[2J\x01\xff!\n", 8, out, sizeof(out), 0);
	assert_string_equal(out, "[nav] \\x1b[2J\\x01\\xff!\n");
}

static void test_console_long_line(void **state)
{
	struct sup_partition p = { .pol = &pol };
	char in[SUP_CONSOLE_LINE_MAX + 11], out[4096];

	memset(in, 'x', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\n';
	feed(&p, in, sizeof(in), out, sizeof(out), 0);
	assert_int_equal(strlen(out), 6 + SUP_CONSOLE_LINE_MAX + 1 + 7 + 10 + 1);
	assert_non_null(strstr(out, "\n[nav]+ xxxxxxxxxx\n"));
}

/* Partition 0 of sys, its binary a new file at path (a mkstemp template) holding img. */
static void init_with_image(struct sup_partition *p, struct pol_system *sys, char *path,
			    const void *img, size_t len)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0644), 0); /* a guest image is readable by others */
	assert_int_equal(write(fd, img, len), (ssize_t)len);
	close(fd);
	strcpy(sys->partitions[0].binary_resolved, path);
	sys->partitions[0].binary_bytes = len;
	assert_int_equal(sup_partition_init(p, sys, 0), 0);
}

/* The image lands at MUMU_USER_GPA of a zeroed, sealed RAM memfd; a cold reload restores it. */
static void test_image_load(void **state)
{
	char path[] = "/tmp/mumu-image-XXXXXX";
	struct pol_partition pp = { .name = "img",
				    .memory_bytes = MUMU_RAM_MIN_BYTES,
				    .n_cores = 1 };
	struct pol_system sys = { .partitions = &pp, .n_partitions = 1 };
	struct sup_partition p;
	uint8_t img[5000], got[5000], zero[64] = { 0 }, z[64];

	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7 + 1);
	init_with_image(&p, &sys, path, img, sizeof(img));
	assert_int_equal(pread(p.ram_fd, got, sizeof(got), MUMU_USER_GPA), sizeof(got));
	assert_memory_equal(got, img, sizeof(img));
	assert_int_equal(pread(p.ram_fd, z, sizeof(z), 0), sizeof(z));
	assert_memory_equal(z, zero, sizeof(z));
	/* Sealed: the size cannot change. */
	assert_int_equal(ftruncate(p.ram_fd, 2 * MUMU_RAM_MIN_BYTES), -1);
	/* Scribble over RAM, reload: the pristine image and zeros come back. */
	assert_int_equal(pwrite(p.ram_fd, zero, sizeof(zero), MUMU_USER_GPA), sizeof(zero));
	assert_int_equal(pwrite(p.ram_fd, img, 64, 0x300000), 64);
	assert_int_equal(sup_partition_load_ram(&p), 0);
	assert_int_equal(pread(p.ram_fd, got, sizeof(got), MUMU_USER_GPA), sizeof(got));
	assert_memory_equal(got, img, sizeof(img));
	assert_int_equal(pread(p.ram_fd, z, sizeof(z), 0x300000), sizeof(z));
	assert_memory_equal(z, zero, sizeof(z));
	assert_int_equal(p.port.ctl->magic, IPC_CTL_MAGIC);
	sup_partition_fini(&p);
	sup_partition_fini(&p); /* idempotent */
	/* A binary that vanished is an error, with nothing left allocated (ASan checks). */
	unlink(path);
	assert_true(sup_partition_init(&p, &sys, 0) < 0);
}

/*
 * Window enforcement stops only the VMM the window was given to: a check that comes late,
 * after the main thread replaced that VMM, must leave the successor alone (one stopped
 * before READY never started: the kill storm found it).
 */
static void test_enforce_generation(void **state)
{
	char path[] = "/tmp/mumu-image-XXXXXX";
	struct pol_partition pp = { .name = "enf",
				    .memory_bytes = MUMU_RAM_MIN_BYTES,
				    .n_cores = 1 };
	struct pol_system sys = { .partitions = &pp, .n_partitions = 1 };
	struct sup_partition p;
	siginfo_t si;
	pid_t child;

	init_with_image(&p, &sys, path, "\xf4", 1); /* hlt */
	unlink(path);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		for (;;)
			pause();
	}
	p.proc.pid = child;
	p.proc.pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	assert_true(p.proc.pidfd >= 0);
	p.proc.generation = 2;

	assert_false(sup_partition_resume(&p));	    /* not stopped by us */
	assert_false(sup_partition_stop(&p, 1, 0)); /* the predecessor's window */
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)child, &si, WSTOPPED | WNOHANG), 0);
	assert_int_equal(si.si_pid, 0);
	assert_true(sup_partition_stop(&p, 2, 0));
	assert_int_equal(waitid(P_PID, (id_t)child, &si, WSTOPPED), 0);
	assert_int_equal(si.si_code, CLD_STOPPED);
	assert_false(sup_partition_stop(&p, 2, 0)); /* once */
	assert_true(sup_partition_resume(&p));
	assert_int_equal(waitid(P_PID, (id_t)child, &si, WCONTINUED), 0);
	assert_int_equal(si.si_code, CLD_CONTINUED);
	assert_false(sup_partition_resume(&p));
	sup_partition_fini(&p); /* kills and reaps the child */
	assert_int_equal(kill(child, 0), -1);
}

/* A request takes effect at the next boundary, decided once, the same for every core. */
static void test_plan(void **state)
{
	struct sup_plan pl = { .initial = 0, .requested = SIZE_MAX };

	assert_int_equal(sup_plan_at(&pl, 500), 0);
	assert_false(sup_plan_decide(&pl, 100)); /* nothing asked */
	pl.requested = 1;
	assert_false(sup_plan_decide(&pl, 100)); /* boundary 100 was decided already */
	assert_int_equal(sup_plan_at(&pl, 150), 0);
	assert_true(sup_plan_decide(&pl, 200));	 /* the first core at 200 switches */
	assert_false(sup_plan_decide(&pl, 200)); /* the second core finds it decided */
	assert_int_equal(sup_plan_at(&pl, 199), 0);
	assert_int_equal(sup_plan_at(&pl, 200), 1);
	assert_int_equal(pl.requested, SIZE_MAX);
	/* Asking for the schedule in force is no switch. */
	pl.requested = 1;
	assert_false(sup_plan_decide(&pl, 300));
	assert_int_equal(pl.requested, SIZE_MAX);
	/* A lagging core still finds what held at its own boundaries. */
	pl.requested = 0;
	assert_true(sup_plan_decide(&pl, 400));
	assert_int_equal(sup_plan_at(&pl, 100), 0);
	assert_int_equal(sup_plan_at(&pl, 300), 1);
	assert_int_equal(sup_plan_at(&pl, 400), 0);
	/* Beyond the history, the latest switches still answer. */
	for (uint64_t t = 500; t < 500 + 100 * (SUP_PLAN_HISTORY + 5); t += 100) {
		size_t want = sup_plan_at(&pl, t) ? 0 : 1;

		pl.requested = want;
		assert_true(sup_plan_decide(&pl, t));
		assert_int_equal(sup_plan_at(&pl, t), want);
		assert_int_equal(sup_plan_at(&pl, t - 1), want ? 0 : 1);
	}
	assert_int_equal(pl.n, 2 + SUP_PLAN_HISTORY + 5);
}

/* The health monitor's rule, every row of the default table, alive and dead. */
static void test_hm_decide_defaults(void **state)
{
	static const struct {
		enum pol_hm_error ev;
		enum pol_action alive, dead;
	} rows[] = {
		{ POL_HM_VMM_DIED, POL_ACTION_COLD_START, POL_ACTION_COLD_START },
		{ POL_HM_GUEST_CRASH, POL_ACTION_COLD_START, POL_ACTION_COLD_START },
		{ POL_HM_MEMORY_VIOLATION, POL_ACTION_COLD_START, POL_ACTION_COLD_START },
		{ POL_HM_ILLEGAL_REQUEST, POL_ACTION_IGNORE, POL_ACTION_IDLE },
		{ POL_HM_DEADLINE_MISSED, POL_ACTION_IGNORE, POL_ACTION_IDLE },
		{ POL_HM_APPLICATION_ERROR, POL_ACTION_IGNORE, POL_ACTION_IDLE },
	};
	struct pol_partition part = { .restart_limit = 1000,
				      .restart_period_ns = POL_HM_RESTART_PERIOD_DEFAULT_NS };

	(void)state;
	assert_int_equal(sizeof(rows) / sizeof(rows[0]), POL_HM_ERROR_COUNT);
	for (int k = 0; k < POL_HM_ERROR_COUNT; k++)
		part.hm_actions[k] = pol_hm_default_action(k);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sup_budget b = { 0 };
		struct sup_hm_decision d;

		d = sup_hm_decide(&part, &b, rows[i].ev, false, 1);
		assert_int_equal(d.action, rows[i].alive);
		assert_false(d.budget_spent);
		d = sup_hm_decide(&part, &b, rows[i].ev, true, 2);
		assert_int_equal(d.action, rows[i].dead);
		/* a restart, and only a restart, takes from the budget */
		assert_int_equal(b.n, rows[i].alive == POL_ACTION_COLD_START ? 2 : 0);
	}
}

/* A table's own actions, and a restart past the budget: IDLE, said so. */
static void test_hm_decide_table_and_budget(void **state)
{
	struct pol_partition part = { .restart_limit = 2, .restart_period_ns = 1000 };
	struct sup_budget b = { 0 };
	struct sup_hm_decision d;

	(void)state;
	part.hm_actions[POL_HM_APPLICATION_ERROR] = POL_ACTION_WARM_START;
	part.hm_actions[POL_HM_DEADLINE_MISSED] = POL_ACTION_SHUTDOWN;
	part.hm_actions[POL_HM_ILLEGAL_REQUEST] = POL_ACTION_IDLE;
	assert_int_equal(sup_hm_decide(&part, &b, POL_HM_DEADLINE_MISSED, false, 0).action,
			 POL_ACTION_SHUTDOWN);
	assert_int_equal(sup_hm_decide(&part, &b, POL_HM_DEADLINE_MISSED, true, 0).action,
			 POL_ACTION_SHUTDOWN);
	assert_int_equal(sup_hm_decide(&part, &b, POL_HM_ILLEGAL_REQUEST, false, 0).action,
			 POL_ACTION_IDLE);
	assert_int_equal(b.n, 0);
	/* two warm starts within the period, then the budget is spent until it passes */
	for (int i = 0; i < 2; i++) {
		d = sup_hm_decide(&part, &b, POL_HM_APPLICATION_ERROR, false, 10);
		assert_int_equal(d.action, POL_ACTION_WARM_START);
		assert_false(d.budget_spent);
	}
	d = sup_hm_decide(&part, &b, POL_HM_APPLICATION_ERROR, false, 500);
	assert_int_equal(d.action, POL_ACTION_IDLE);
	assert_true(d.budget_spent);
	d = sup_hm_decide(&part, &b, POL_HM_APPLICATION_ERROR, true, 1010);
	assert_int_equal(d.action, POL_ACTION_WARM_START);
	/* RestartLimit 0: never a restart */
	part.restart_limit = 0;
	assert_true(sup_hm_decide(&part, &b, POL_HM_APPLICATION_ERROR, false, 99999).budget_spent);
	/* an event out of range is IDLE, never an index past the table */
	assert_int_equal(sup_hm_decide(&part, &b, POL_HM_ERROR_COUNT, false, 0).action,
			 POL_ACTION_IDLE);
}

/* At most limit restarts in any period; 0 allows none. */
static void test_budget(void **state)
{
	struct sup_budget b = { 0 };
	const uint64_t t = 1000000000, period = 60000000000ULL;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(sup_budget_take(&b, 3, period, t + (uint64_t)i));
	assert_false(sup_budget_take(&b, 3, period, t + period - 1));
	assert_int_equal(b.n, 3);
	/* the first restart leaves the period: one more */
	assert_true(sup_budget_take(&b, 3, period, t + period));
	assert_false(sup_budget_take(&b, 3, period, t + period));
	/* a larger limit on the same history, and none at all */
	assert_true(sup_budget_take(&b, 5, period, t + period));
	assert_true(sup_budget_take(&b, 5, period, t + period)); /* t left it */
	assert_false(sup_budget_take(&b, 5, period, t + period));
	assert_false(sup_budget_take(&b, 0, period, t));
	/* the ring wraps at the largest limit */
	struct sup_budget big = { 0 };
	for (uint64_t i = 0; i < 2 * POL_HM_RESTART_LIMIT_MAX; i++)
		assert_true(sup_budget_take(&big, POL_HM_RESTART_LIMIT_MAX, 10, i * 10));
	assert_false(sup_budget_take(&big, POL_HM_RESTART_LIMIT_MAX, 1000000, 20000));
	assert_int_equal(pol_hm_default_action(POL_HM_VMM_DIED), POL_ACTION_COLD_START);
	assert_int_equal(pol_hm_default_action(POL_HM_APPLICATION_ERROR), POL_ACTION_IGNORE);
	assert_string_equal(pol_hm_error_name(POL_HM_ILLEGAL_REQUEST), "ILLEGAL_REQUEST");
	assert_string_equal(pol_hm_error_name(POL_HM_ERROR_COUNT), "?");
}

/* The HM log keeps the newest SUP_HM_LOG_SIZE distinct events, oldest first. */
static void test_hm_log(void **state)
{
	static struct sup_hm_log log;
	struct sup_hm_entry e = { .error = POL_HM_VMM_DIED, .action = POL_ACTION_COLD_START };
	uint64_t unsaid;

	(void)state;
	assert_int_equal(sup_hm_log_kept(&log), 0);
	assert_null(sup_hm_log_get(&log, 0));
	for (uint64_t i = 0; i < SUP_HM_LOG_SIZE + 10; i++) {
		e.ns = i;
		e.partition = (uint32_t)i; /* distinct: one entry each */
		assert_true(sup_hm_log_add(&log, &e, &unsaid));
		assert_int_equal(unsaid, 0);
	}
	assert_int_equal(sup_hm_log_kept(&log), SUP_HM_LOG_SIZE);
	assert_int_equal(log.n, SUP_HM_LOG_SIZE + 10);
	assert_int_equal(sup_hm_log_get(&log, 0)->ns, 10);
	assert_int_equal(sup_hm_log_get(&log, SUP_HM_LOG_SIZE - 1)->ns, SUP_HM_LOG_SIZE + 9);
	assert_null(sup_hm_log_get(&log, SUP_HM_LOG_SIZE));
}

/*
 * A flood of one kind of event takes one entry: the crash before it stays, the repeats are
 * counted, said at most SUP_HM_SAY_MAX times a period with how many went unsaid.
 */
static void test_hm_log_flood(void **state)
{
	static struct sup_hm_log log;
	struct sup_hm_entry crash = { .partition = 1,
				      .error = POL_HM_GUEST_CRASH,
				      .action = POL_ACTION_COLD_START,
				      .ns = 5 };
	struct sup_hm_entry bad = { .partition = 0,
				    .error = POL_HM_ILLEGAL_REQUEST,
				    .action = POL_ACTION_IGNORE };
	const struct sup_hm_entry *held;
	uint64_t said = 0, unsaid;

	(void)state;
	sup_hm_log_add(&log, &crash, &unsaid);
	for (uint64_t i = 0; i < 100000; i++) {
		bad.ns = 10 + i * 100000; /* 10 kHz for 10 s */
		snprintf(bad.detail, sizeof(bad.detail), "hypercall %llu", 999 + i % 4ULL);
		if (sup_hm_log_add(&log, &bad, &unsaid)) {
			said++;
			/* the first of a period reports what the one before left unsaid */
			assert_int_equal(unsaid, i && i % 10000 == 0 ? 10000 - SUP_HM_SAY_MAX : 0);
		}
	}
	assert_int_equal(sup_hm_log_kept(&log), 2);
	assert_int_equal(log.n, 100001);
	assert_int_equal(sup_hm_log_get(&log, 0)->error, POL_HM_GUEST_CRASH);
	held = sup_hm_log_get(&log, 1);
	assert_int_equal(held->repeats, 99999);
	assert_int_equal(held->ns, 10);
	assert_int_equal(held->last_ns, 10 + 99999 * 100000ULL);
	assert_string_equal(held->detail, "hypercall 1002");
	assert_int_equal(said, 10 * SUP_HM_SAY_MAX); /* a burst a second */
	/* Another action, or another partition, is another entry. */
	/* Events a VMM counted without reporting them come with the next report. */
	bad.ns += SUP_HM_SAY_PERIOD_NS;
	bad.repeats = 500;
	assert_true(sup_hm_log_add(&log, &bad, &unsaid));
	assert_int_equal(unsaid, 10000 - SUP_HM_SAY_MAX + 500);
	assert_int_equal(held->repeats, 99999 + 501);
	assert_int_equal(log.n, 100001 + 501);
	bad.repeats = 0;
	bad.action = POL_ACTION_IDLE;
	assert_true(sup_hm_log_add(&log, &bad, &unsaid));
	bad.partition = 2;
	assert_true(sup_hm_log_add(&log, &bad, &unsaid));
	assert_int_equal(sup_hm_log_kept(&log), 4);
}

/* A --trace file back in: windows and events parsed, escapes undone, bad lines refused. */
static const char trace_text[] =
    "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"module\":\"m\",\"epoch_ns\":1000000},"
    "\"traceEvents\":[\n"
    "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"core 0\"}},\n"
    "{\"name\":\"a<b\",\"cat\":\"ran\",\"ph\":\"X\",\"pid\":1,\"tid\":0,\"ts\":0.100,\"dur\":1.0,"
    "\"args\":{\"outcome\":\"ran\",\"schedule\":1,\"frame\":0,\"core\":0,\"vcpu\":0,"
    "\"offset_ns\":0,\"planned_start_ns\":1000000,\"planned_end_ns\":2000000,"
    "\"start_ns\":1000100,\"end_ns\":2000300}},\n"
    "{\"name\":\"b\",\"cat\":\"missed\",\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":0,\"dur\":1.0,"
    "\"args\":{\"outcome\":\"missed\",\"schedule\":1,\"frame\":0,\"core\":1,\"vcpu\":0,"
    "\"offset_ns\":0,\"planned_start_ns\":1000000,\"planned_end_ns\":2000000,"
    "\"start_ns\":0,\"end_ns\":0}},\n"
    "{\"name\":\"GUEST_CRASH a\",\"cat\":\"event\",\"ph\":\"i\",\"s\":\"g\",\"pid\":1,\"tid\":0,"
    "\"ts\":0.5,\"args\":{\"time_ns\":1500000,\"detail\":\"say \\\"hi\\\"\\u0007\"}}\n"
    "]}\n";

static int read_text(struct gantt *g, const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	assert_non_null(f);
	r = gantt_read(g, f, "t.json");
	fclose(f);
	return r;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_gantt(void **state)
{
	struct gantt g;
	char *svg = NULL, bad[sizeof(trace_text)];
	size_t len = 0;
	FILE *out;

	(void)state;
	assert_int_equal(read_text(&g, trace_text), 0);
	assert_int_equal(g.epoch_ns, 1000000);
	assert_int_equal(g.n_windows, 2);
	assert_string_equal(g.windows[0].name, "a<b");
	assert_int_equal(g.windows[0].end_ns, 2000300);
	assert_int_equal(g.windows[1].core, 1);
	assert_int_equal(g.n_events, 1);
	assert_string_equal(g.events[0].detail, "say \"hi\"\a");

	out = open_memstream(&svg, &len);
	assert_non_null(out);
	gantt_svg(&g, out, 0, 0);
	fclose(out);
	assert_int_equal(count(svg, "class=\"ran\""), 1);    /* only a ran */
	assert_int_equal(count(svg, "class=\"missed\""), 1); /* b never started */
	assert_int_equal(count(svg, "class=\"event\""), 1);
	assert_int_equal(count(svg, "a&lt;b"), 3); /* planned, ran, legend */
	assert_null(strstr(svg, "a<b"));
	assert_non_null(strstr(svg, "say &quot;hi&quot;?"));
	assert_non_null(strstr(svg, "core 1"));
	free(svg);
	gantt_free(&g);

	/* a window without its planned end; a file that is no trace at all */
	memcpy(bad, trace_text, sizeof(bad));
	memcpy(strstr(bad, "\"planned_end_ns\":2"), "\"planned_xnd_ns\":2", 18);
	assert_int_equal(read_text(&g, bad), -EINVAL);
	assert_int_equal(read_text(&g, "{\"ph\":\"X\"}\n"), -EINVAL);
	assert_int_equal(read_text(&g, ""), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_drift),
		cmocka_unit_test(test_kick_time),
		cmocka_unit_test(test_kick_ahead),
		cmocka_unit_test(test_batons_plan),
		cmocka_unit_test(test_core_realtime),
		cmocka_unit_test(test_check_time),
		cmocka_unit_test(test_hist),
		cmocka_unit_test(test_hist_small),
		cmocka_unit_test(test_console_lines),
		cmocka_unit_test(test_console_long_line),
		cmocka_unit_test(test_image_load),
		cmocka_unit_test(test_enforce_generation),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_hm_decide_defaults),
		cmocka_unit_test(test_hm_decide_table_and_budget),
		cmocka_unit_test(test_gantt),
		cmocka_unit_test(test_hm_log),
		cmocka_unit_test(test_hm_log_flood),
		cmocka_unit_test(test_output_order),
		cmocka_unit_test(test_output_stalled),
		cmocka_unit_test(test_control_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
