/* SPDX-License-Identifier: MIT */
/* Unit tests of the supervisor <-> VMM wire format: framing, validation, fd passing. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/vmm.h"

struct pair {
	int a, b;
};

static int setup(void **state)
{
	static struct pair p;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	p.a = sv[0];
	p.b = sv[1];
	*state = &p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	close(p->a);
	close(p->b);
	return 0;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_round_trip_with_fds(void **state)
{
	struct pair *p = *state;
	struct ipc_config cfg = { .partition_id = 7, .n_vcpus = 2, .ram_bytes = 1 << 24 };
	int fds[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };
	char buf[IPC_MSG_MAX];
	int got_fds[4];
	size_t n_fds = 0, size = 0;
	uint32_t type = 0;
	uint64_t one = 1, v = 0;

	strcpy(cfg.partition_name, "alpha");
	assert_int_equal(ipc_send(p->a, IPC_CONFIG, &cfg, sizeof(cfg), fds, 2), 0);
	assert_int_equal(ipc_recv(p->b, buf, &type, &size, got_fds, 4, &n_fds), 0);
	assert_int_equal(type, IPC_CONFIG);
	assert_int_equal(size, sizeof(cfg));
	assert_int_equal(n_fds, 2);
	assert_memory_equal(buf, &cfg, sizeof(cfg));
	/* The received fd is the same eventfd. */
	assert_int_equal(write(fds[1], &one, sizeof(one)), sizeof(one));
	assert_int_equal(read(got_fds[1], &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 1);
	for (int i = 0; i < 2; i++) {
		close(fds[i]);
		close(got_fds[i]);
	}
}

static void test_send_rejects_bad_sizes(void **state)
{
	struct pair *p = *state;
	char big[IPC_CONSOLE_MAX + 1] = { 0 };
	struct ipc_u32 u = { 0 };

	assert_int_equal(ipc_send(p->a, IPC_CONSOLE, big, sizeof(big), NULL, 0), -EINVAL);
	assert_int_equal(ipc_send(p->a, IPC_CONSOLE, big, 0, NULL, 0), -EINVAL);
	assert_int_equal(ipc_send(p->a, IPC_READY, &u, sizeof(u), NULL, 0), -EINVAL);
	assert_int_equal(ipc_send(p->a, 999, NULL, 0, NULL, 0), -EINVAL);
	assert_int_equal(ipc_send(p->a, IPC_SCHEDULE_REQ, &u, sizeof(u) - 1, NULL, 0), -EINVAL);
}

/* Raw datagrams a compromised VMM could send instead of well-formed messages. */
static void send_raw(int sock, const void *data, size_t len)
{
	assert_int_equal(send(sock, data, len, 0), (ssize_t)len);
}

static void test_recv_rejects_malformed(void **state)
{
	struct pair *p = *state;
	char buf[IPC_MSG_MAX];
	size_t size, n_fds;
	uint32_t type;
	struct {
		struct ipc_hdr h;
		char payload[16];
	} m;

	/* Shorter than a header. */
	send_raw(p->a, "abc", 3);
	assert_int_equal(ipc_recv(p->b, buf, &type, &size, NULL, 0, &n_fds), -EPROTO);
	/* Unknown type. */
	m.h = (struct ipc_hdr){ .type = 0xdead, .size_bytes = 0 };
	send_raw(p->a, &m, sizeof(m.h));
	assert_int_equal(ipc_recv(p->b, buf, &type, &size, NULL, 0, &n_fds), -EPROTO);
	/* Header size disagrees with the datagram. */
	m.h = (struct ipc_hdr){ .type = IPC_CONSOLE, .size_bytes = 100 };
	send_raw(p->a, &m, sizeof(m));
	assert_int_equal(ipc_recv(p->b, buf, &type, &size, NULL, 0, &n_fds), -EPROTO);
	/* A fixed-size type with the wrong size. */
	m.h = (struct ipc_hdr){ .type = IPC_SCHEDULE_REQ, .size_bytes = 16 };
	send_raw(p->a, &m, sizeof(m));
	assert_int_equal(ipc_recv(p->b, buf, &type, &size, NULL, 0, &n_fds), -EPROTO);
	/* Good one still goes through afterwards. */
	m.h = (struct ipc_hdr){ .type = IPC_CONSOLE, .size_bytes = 5 };
	memcpy(m.payload, "hello", 5);
	send_raw(p->a, &m, sizeof(m.h) + 5);
	assert_int_equal(ipc_recv(p->b, buf, &type, &size, NULL, 0, &n_fds), 0);
	assert_int_equal(type, IPC_CONSOLE);
	assert_int_equal(size, 5);
	assert_memory_equal(buf, "hello", 5);
}

static void test_oversized_datagram_truncated(void **state)
{
	struct pair *p = *state;
	static char huge[IPC_MSG_MAX + 100];
	char buf[IPC_MSG_MAX];
	size_t size, n_fds;
	uint32_t type;
	struct ipc_hdr h = { .type = IPC_CONSOLE, .size_bytes = sizeof(huge) - sizeof(h) };

	memcpy(huge, &h, sizeof(h));
	send_raw(p->a, huge, sizeof(huge));
	assert_int_equal(ipc_recv(p->b, buf, &type, &size, NULL, 0, &n_fds), -EPROTO);
}

static void test_unexpected_fds_are_closed(void **state)
{
	struct pair *p = *state;
	int fds[3] = { eventfd(0, 0), eventfd(0, 0), eventfd(0, 0) };
	char buf[IPC_MSG_MAX];
	int got[2] = { -1, -1 };
	size_t size, n_fds = 0;
	uint32_t type;
	int lowest;

	assert_int_equal(ipc_send(p->a, IPC_READY, NULL, 0, fds, 3), 0);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	/* The receiver accepts at most 2: the message is rejected and all 3 are closed. */
	assert_int_equal(ipc_recv(p->b, buf, &type, &size, got, 2, &n_fds), -EPROTO);
	lowest = eventfd(0, 0);
	assert_true(lowest >= 0);
	/* Had any received fd stayed open, the new fd would not reuse the lowest slot. */
	assert_int_equal(lowest, fds[0]);
	assert_false(fd_is_open(fds[1]));
	assert_false(fd_is_open(fds[2]));
	close(lowest);
}

static void test_end_of_stream(void **state)
{
	struct pair *p = *state;
	char buf[IPC_MSG_MAX];
	size_t size, n_fds;
	uint32_t type;

	shutdown(p->a, SHUT_WR);
	assert_int_equal(ipc_recv(p->b, buf, &type, &size, NULL, 0, &n_fds), -ECONNRESET);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ipc_type_name(IPC_CONSOLE), "CONSOLE");
	assert_string_equal(ipc_type_name(12345), "UNKNOWN");
	assert_string_equal(ipc_fault_name(IPC_FAULT_TRIPLE_FAULT), "triple fault");
	assert_string_equal(ipc_fault_name(IPC_FAULT_COUNT), "unknown fault");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_with_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_rejects_bad_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recv_rejects_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_datagram_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unexpected_fds_are_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_of_stream, setup, teardown),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("ipc", tests, NULL, NULL);
}
