/* SPDX-License-Identifier: MIT */
/*
 * apex_ports.bin: APEX sampling and queuing ports between two partitions, "src" and "dst"
 * (this program in both; tests/e2e/apex.sh gives them one core, one after the other, and a
 * sampling and a queuing channel). Each checks its side and prints
 *
 *     apex: ok NAME   /   apex: FAIL NAME (...)   /   apex: ports SIDE done, N ok, M failed
 */
#include "apex_check.h"
#include "arinc653/apex.h"
#include "arinc653/mumu.h"

static bool is_src;
static SAMPLING_PORT_ID_TYPE sp;
static QUEUING_PORT_ID_TYPE qp;
static volatile int ticks;

/* Lower priority: runs while the sender or receiver waits on its port. */
static void ticker(void)
{
	for (;;)
		ticks++;
}

static void src(void)
{
	APEX_BYTE msg[17] = "hello";
	MESSAGE_SIZE_TYPE len;
	VALIDITY_TYPE v;
	RETURN_CODE_TYPE rc;

	WRITE_SAMPLING_MESSAGE(sp, msg, 6, &rc);
	CHECK("WRITE_SAMPLING_MESSAGE", rc, NO_ERROR);
	WRITE_SAMPLING_MESSAGE(sp, msg, 17, &rc);
	CHECK("WRITE_SAMPLING_MESSAGE too long: INVALID_CONFIG", rc, INVALID_CONFIG);
	READ_SAMPLING_MESSAGE(sp, msg, &len, &v, &rc);
	CHECK("READ_SAMPLING_MESSAGE on a source: INVALID_MODE", rc, INVALID_MODE);
	for (int i = 1; i <= 4; i++) {
		msg[0] = 'm';
		msg[1] = (APEX_BYTE)('0' + i);
		SEND_QUEUING_MESSAGE(qp, msg, 2, 0, &rc);
		CHECK("SEND_QUEUING_MESSAGE", rc, NO_ERROR);
	}
	SEND_QUEUING_MESSAGE(qp, (MESSAGE_ADDR_TYPE) "m5", 2, 0, &rc);
	CHECK("SEND_QUEUING_MESSAGE full, 0: NOT_AVAILABLE", rc, NOT_AVAILABLE);
	SEND_QUEUING_MESSAGE(qp, (MESSAGE_ADDR_TYPE) "m5", 2, INFINITE_TIME_VALUE, &rc);
	CHECK("SEND_QUEUING_MESSAGE full, waits for room", rc, NO_ERROR);
	CHECK("the other process ran meanwhile", ticks > 0, 1);
	mumu_printf("apex: ports src done, %d ok, %d failed\n", n_ok, n_failed);
	STOP_SELF();
}

static void dst(void)
{
	QUEUING_PORT_STATUS_TYPE st;
	SAMPLING_PORT_STATUS_TYPE ss;
	APEX_BYTE msg[16];
	MESSAGE_SIZE_TYPE len;
	VALIDITY_TYPE v;
	RETURN_CODE_TYPE rc;

	do /* until src wrote (src's window comes first; be sure) */
		READ_SAMPLING_MESSAGE(sp, msg, &len, &v, &rc);
	while (rc == NO_ACTION && (TIMED_WAIT(1000000, &rc), 1));
	CHECK("READ_SAMPLING_MESSAGE",
	      rc == NO_ERROR && len == 6 && __builtin_memcmp(msg, "hello", 6) == 0, 1);
	CHECK("READ_SAMPLING_MESSAGE: VALID", v, VALID);
	GET_SAMPLING_PORT_STATUS(sp, &ss, &rc);
	CHECK("GET_SAMPLING_PORT_STATUS", ss.LAST_MSG_VALIDITY * 10 + ss.PORT_DIRECTION,
	      VALID * 10 + DESTINATION);
	WRITE_SAMPLING_MESSAGE(sp, msg, 6, &rc);
	CHECK("WRITE_SAMPLING_MESSAGE on a destination: INVALID_MODE", rc, INVALID_MODE);
	GET_QUEUING_PORT_STATUS(qp, &st, &rc);
	CHECK("GET_QUEUING_PORT_STATUS: 4 waiting", st.NB_MESSAGE, 4);
	RECEIVE_QUEUING_MESSAGE(qp, 0, msg, &len, &rc);
	CHECK("RECEIVE_QUEUING_MESSAGE after an overflow: INVALID_CONFIG", rc, INVALID_CONFIG);
	CHECK("and the first message", len == 2 && msg[1] == '1', 1);
	for (int i = 2; i <= 5; i++) {
		RECEIVE_QUEUING_MESSAGE(qp, INFINITE_TIME_VALUE, msg, &len, &rc);
		CHECK("RECEIVE_QUEUING_MESSAGE in order", rc == NO_ERROR && msg[1] == '0' + i, 1);
	}
	CHECK("the other process ran while it waited for m5", ticks > 0, 1);
	RECEIVE_QUEUING_MESSAGE(qp, 1000000, msg, &len, &rc);
	CHECK("RECEIVE_QUEUING_MESSAGE empty, 1 ms: TIMED_OUT", rc, TIMED_OUT);
	CLEAR_QUEUING_PORT(qp, &rc);
	CHECK("CLEAR_QUEUING_PORT", rc, NO_ERROR);
	mumu_printf("apex: ports dst done, %d ok, %d failed\n", n_ok, n_failed);
	STOP_SELF();
}

void apex_main(void)
{
	const struct mumu_info *info = (const struct mumu_info *)MUMU_INFO_GPA;
	PORT_DIRECTION_TYPE dir, wrong;
	const char *s, *q;
	SAMPLING_PORT_ID_TYPE id;
	PROCESS_ID_TYPE pid;
	RETURN_CODE_TYPE rc;

	is_src = info->partition_name[0] == 's';
	dir = is_src ? SOURCE : DESTINATION;
	wrong = is_src ? DESTINATION : SOURCE;
	s = is_src ? "s_out" : "s_in";
	q = is_src ? "q_out" : "q_in";
	CREATE_SAMPLING_PORT(s, 8, dir, 100000000, &id, &rc);
	CHECK("CREATE_SAMPLING_PORT other size: INVALID_CONFIG", rc, INVALID_CONFIG);
	CREATE_SAMPLING_PORT(s, 16, wrong, 100000000, &id, &rc);
	CHECK("CREATE_SAMPLING_PORT other direction: INVALID_CONFIG", rc, INVALID_CONFIG);
	CREATE_SAMPLING_PORT(s, 16, dir, 5, &id, &rc);
	CHECK("CREATE_SAMPLING_PORT other refresh: INVALID_CONFIG", rc, INVALID_CONFIG);
	CREATE_SAMPLING_PORT("nope", 16, dir, 100000000, &id, &rc);
	CHECK("CREATE_SAMPLING_PORT unknown: INVALID_CONFIG", rc, INVALID_CONFIG);
	CREATE_SAMPLING_PORT(s, 16, dir, 100000000, &sp, &rc);
	CHECK("CREATE_SAMPLING_PORT", rc, NO_ERROR);
	CREATE_SAMPLING_PORT(s, 16, dir, 100000000, &id, &rc);
	CHECK("CREATE_SAMPLING_PORT again: NO_ACTION", rc, NO_ACTION);
	GET_SAMPLING_PORT_ID(s, &id, &rc);
	CHECK("GET_SAMPLING_PORT_ID", id, sp);
	CREATE_QUEUING_PORT(q, 16, 3, dir, FIFO, &qp, &rc);
	CHECK("CREATE_QUEUING_PORT other depth: INVALID_CONFIG", rc, INVALID_CONFIG);
	CREATE_QUEUING_PORT(q, 16, 4, dir, FIFO, &qp, &rc);
	CHECK("CREATE_QUEUING_PORT", rc, NO_ERROR);
	apex_spawn(is_src ? "src" : "dst", is_src ? src : dst, 20, INFINITE_TIME_VALUE, &pid);
	apex_spawn("ticker", ticker, 1, INFINITE_TIME_VALUE, &pid);
	SET_PARTITION_MODE(NORMAL, &rc);
}
