/* SPDX-License-Identifier: MIT */
/*
 * APEX sampling and queuing ports (ARINC 653 P1 3.6) over mumu's channels (guests/lib/port.h,
 * docs/ports.md). CREATE_*_PORT binds a configured port and holds it to the configuration.
 * The peer is another partition, which tells nothing when it sends or receives: a process
 * that waits on a queuing port looks again every APEX_PORT_POLL_NS (and at each window's
 * start), blocked like any waiting process, so that only it waits.
 */
#include "apex/kernel.h"
#include "lib/port.h"

#define RETURN(rc)                   \
	do {                         \
		*RETURN_CODE = (rc); \
		k_leave();           \
		return;              \
	} while (0)

#define APEX_PORT_POLL_NS 1000000LL

struct apex_port {
	bool used;
	struct mumu_port port;
	bool sampling;
	bool last_valid; /* sampling: the validity of the last read */
	NAME_TYPE name;
	WAITING_RANGE_TYPE waiting;
};

static struct apex_port ports[SYSTEM_LIMIT_NUMBER_OF_PORTS];

void k_ports_reset(void)
{
	__builtin_memset(ports, 0, sizeof(ports));
}

static struct apex_port *port_of(APEX_INTEGER id, bool sampling)
{
	if (id < 1 || id > SYSTEM_LIMIT_NUMBER_OF_PORTS || !ports[id - 1].used ||
	    ports[id - 1].sampling != sampling)
		return NULL;
	return &ports[id - 1];
}

/* CREATE_*_PORT's checks: in initialisation, configured as asked, once. */
static RETURN_CODE_TYPE create(const char *name, bool sampling, MESSAGE_SIZE_TYPE size,
			       PORT_DIRECTION_TYPE dir, struct apex_port **ret)
{
	const struct mumu_info *info = (const struct mumu_info *)MUMU_INFO_GPA;
	struct apex_port *free = NULL;
	NAME_TYPE n;

	if (apex.mode == NORMAL)
		return INVALID_MODE;
	if (dir != SOURCE && dir != DESTINATION)
		return INVALID_PARAM;
	k_name_copy(n, name);
	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PORTS; i++) {
		if (ports[i].used && k_name_eq(ports[i].name, n))
			return NO_ACTION;
		if (!ports[i].used && !free)
			free = &ports[i];
	}
	if (!free ||
	    mumu_port_open(info, n, sampling ? MUMU_REGION_SAMPLING_PORT : MUMU_REGION_QUEUING_PORT,
			   &free->port) < 0)
		return INVALID_CONFIG; /* no such port in the configuration */
	if (size != (MESSAGE_SIZE_TYPE)free->port.max_message_bytes ||
	    free->port.source != (dir == SOURCE))
		return INVALID_CONFIG;
	free->sampling = sampling;
	k_name_copy(free->name, n);
	*ret = free;
	return NO_ERROR;
}

void CREATE_SAMPLING_PORT(const char *SAMPLING_PORT_NAME, MESSAGE_SIZE_TYPE MAX_MESSAGE_SIZE,
			  PORT_DIRECTION_TYPE PORT_DIRECTION, SYSTEM_TIME_TYPE REFRESH_PERIOD,
			  SAMPLING_PORT_ID_TYPE *SAMPLING_PORT_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_port *p = NULL;
	RETURN_CODE_TYPE rc;

	k_enter();
	rc = create(SAMPLING_PORT_NAME, true, MAX_MESSAGE_SIZE, PORT_DIRECTION, &p);
	if (rc == NO_ERROR && REFRESH_PERIOD != (SYSTEM_TIME_TYPE)p->port.refresh_period_ns)
		rc = INVALID_CONFIG;
	if (rc != NO_ERROR)
		RETURN(rc);
	p->used = true;
	*SAMPLING_PORT_ID = (SAMPLING_PORT_ID_TYPE)(p - ports) + 1;
	RETURN(NO_ERROR);
}

void WRITE_SAMPLING_MESSAGE(SAMPLING_PORT_ID_TYPE SAMPLING_PORT_ID, MESSAGE_ADDR_TYPE MESSAGE_ADDR,
			    MESSAGE_SIZE_TYPE LENGTH, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_port *p;

	k_enter();
	p = port_of(SAMPLING_PORT_ID, true);
	if (!p || !MESSAGE_ADDR)
		RETURN(INVALID_PARAM);
	if (LENGTH <= 0 || LENGTH > (MESSAGE_SIZE_TYPE)p->port.max_message_bytes)
		RETURN(INVALID_CONFIG);
	if (!p->port.source)
		RETURN(INVALID_MODE);
	RETURN(mumu_sampling_write(&p->port, MESSAGE_ADDR, (uint32_t)LENGTH) == 0 ? NO_ERROR
										  : INVALID_CONFIG);
}

void READ_SAMPLING_MESSAGE(SAMPLING_PORT_ID_TYPE SAMPLING_PORT_ID, MESSAGE_ADDR_TYPE MESSAGE_ADDR,
			   MESSAGE_SIZE_TYPE *LENGTH, VALIDITY_TYPE *VALIDITY,
			   RETURN_CODE_TYPE *RETURN_CODE)
{
	struct mumu_message_info mi;
	struct apex_port *p;
	uint32_t len = 0;
	int r;

	k_enter();
	p = port_of(SAMPLING_PORT_ID, true);
	*LENGTH = 0;
	*VALIDITY = INVALID;
	if (!p || !MESSAGE_ADDR)
		RETURN(INVALID_PARAM);
	if (p->port.source)
		RETURN(INVALID_MODE);
	r = mumu_sampling_read(&p->port, MESSAGE_ADDR, p->port.max_message_bytes, &len, &mi);
	if (r == -MUMU_EAGAIN)
		RETURN(NO_ACTION); /* nothing written yet */
	if (r < 0)
		RETURN(INVALID_CONFIG); /* what the peer could not have written */
	*LENGTH = (MESSAGE_SIZE_TYPE)len;
	*VALIDITY = mi.valid ? VALID : INVALID;
	p->last_valid = mi.valid;
	RETURN(NO_ERROR);
}

void GET_SAMPLING_PORT_ID(const char *SAMPLING_PORT_NAME, SAMPLING_PORT_ID_TYPE *SAMPLING_PORT_ID,
			  RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PORTS; i++)
		if (ports[i].used && ports[i].sampling &&
		    k_name_eq(ports[i].name, SAMPLING_PORT_NAME)) {
			*SAMPLING_PORT_ID = i + 1;
			RETURN(NO_ERROR);
		}
	RETURN(INVALID_CONFIG);
}

void GET_SAMPLING_PORT_STATUS(SAMPLING_PORT_ID_TYPE SAMPLING_PORT_ID,
			      SAMPLING_PORT_STATUS_TYPE *SAMPLING_PORT_STATUS,
			      RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_port *p;

	k_enter();
	p = port_of(SAMPLING_PORT_ID, true);
	if (!p)
		RETURN(INVALID_PARAM);
	*SAMPLING_PORT_STATUS = (SAMPLING_PORT_STATUS_TYPE){
		.REFRESH_PERIOD = (SYSTEM_TIME_TYPE)p->port.refresh_period_ns,
		.MAX_MESSAGE_SIZE = (MESSAGE_SIZE_TYPE)p->port.max_message_bytes,
		.PORT_DIRECTION = p->port.source ? SOURCE : DESTINATION,
		.LAST_MSG_VALIDITY = p->last_valid ? VALID : INVALID,
	};
	RETURN(NO_ERROR);
}

void CREATE_QUEUING_PORT(const char *QUEUING_PORT_NAME, MESSAGE_SIZE_TYPE MAX_MESSAGE_SIZE,
			 MESSAGE_RANGE_TYPE MAX_NB_MESSAGE, PORT_DIRECTION_TYPE PORT_DIRECTION,
			 QUEUING_DISCIPLINE_TYPE QUEUING_DISCIPLINE,
			 QUEUING_PORT_ID_TYPE *QUEUING_PORT_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_port *p = NULL;
	RETURN_CODE_TYPE rc;

	k_enter();
	if (QUEUING_DISCIPLINE != FIFO && QUEUING_DISCIPLINE != PRIORITY)
		RETURN(INVALID_PARAM);
	rc = create(QUEUING_PORT_NAME, false, MAX_MESSAGE_SIZE, PORT_DIRECTION, &p);
	if (rc == NO_ERROR && MAX_NB_MESSAGE != (MESSAGE_RANGE_TYPE)p->port.max_nb_messages)
		rc = INVALID_CONFIG;
	if (rc != NO_ERROR)
		RETURN(rc);
	p->used = true;
	*QUEUING_PORT_ID = (QUEUING_PORT_ID_TYPE)(p - ports) + 1;
	RETURN(NO_ERROR);
}

/* One try of a send or receive: 0, -MUMU_EAGAIN (full, empty), or another error. */
static int try_once(struct apex_port *p, MESSAGE_ADDR_TYPE msg, uint32_t len, uint32_t *got,
		    bool *overflowed)
{
	struct mumu_message_info mi = { 0 };
	int r;

	if (p->port.source)
		return mumu_queuing_send(&p->port, msg, len, 0);
	r = mumu_queuing_receive(&p->port, msg, p->port.max_message_bytes, got, 0, &mi);
	*overflowed = mi.overflowed;
	return r;
}

/* Send or receive; when it cannot, the calling process waits, polling, until TIME_OUT. */
static RETURN_CODE_TYPE transfer(struct apex_port *p, MESSAGE_ADDR_TYPE msg, uint32_t len,
				 uint32_t *got, SYSTEM_TIME_TYPE time_out)
{
	SYSTEM_TIME_TYPE until = k_deadline(time_out);
	bool overflowed = false;

	for (;;) {
		int r = try_once(p, msg, len, got, &overflowed);
		SYSTEM_TIME_TYPE now = k_now(), wake;

		if (r == 0)
			return overflowed ? INVALID_CONFIG : NO_ERROR;
		if (r != -MUMU_EAGAIN)
			return INVALID_CONFIG; /* what the peer could not have written */
		if (time_out == 0)
			return NOT_AVAILABLE;
		if (!k_may_wait())
			return INVALID_MODE;
		if (until && now >= until)
			return TIMED_OUT;
		wake = now + APEX_PORT_POLL_NS;
		p->waiting++;
		k_block(WAIT_DELAY, NULL, until && until < wake ? until : wake);
		p->waiting--;
	}
}

void SEND_QUEUING_MESSAGE(QUEUING_PORT_ID_TYPE QUEUING_PORT_ID, MESSAGE_ADDR_TYPE MESSAGE_ADDR,
			  MESSAGE_SIZE_TYPE LENGTH, SYSTEM_TIME_TYPE TIME_OUT,
			  RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_port *p;

	k_enter();
	p = port_of(QUEUING_PORT_ID, false);
	if (!p || !MESSAGE_ADDR || TIME_OUT < INFINITE_TIME_VALUE)
		RETURN(INVALID_PARAM);
	if (LENGTH <= 0 || LENGTH > (MESSAGE_SIZE_TYPE)p->port.max_message_bytes)
		RETURN(INVALID_CONFIG);
	if (!p->port.source)
		RETURN(INVALID_MODE);
	RETURN(transfer(p, MESSAGE_ADDR, (uint32_t)LENGTH, NULL, TIME_OUT));
}

void RECEIVE_QUEUING_MESSAGE(QUEUING_PORT_ID_TYPE QUEUING_PORT_ID, SYSTEM_TIME_TYPE TIME_OUT,
			     MESSAGE_ADDR_TYPE MESSAGE_ADDR, MESSAGE_SIZE_TYPE *LENGTH,
			     RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_port *p;
	uint32_t got = 0;
	RETURN_CODE_TYPE rc;

	k_enter();
	p = port_of(QUEUING_PORT_ID, false);
	*LENGTH = 0;
	if (!p || !MESSAGE_ADDR || TIME_OUT < INFINITE_TIME_VALUE)
		RETURN(INVALID_PARAM);
	if (p->port.source)
		RETURN(INVALID_MODE);
	rc = transfer(p, MESSAGE_ADDR, 0, &got, TIME_OUT);
	if (rc == NO_ERROR || rc == INVALID_CONFIG)
		*LENGTH = (MESSAGE_SIZE_TYPE)got;
	RETURN(rc);
}

void GET_QUEUING_PORT_ID(const char *QUEUING_PORT_NAME, QUEUING_PORT_ID_TYPE *QUEUING_PORT_ID,
			 RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PORTS; i++)
		if (ports[i].used && !ports[i].sampling &&
		    k_name_eq(ports[i].name, QUEUING_PORT_NAME)) {
			*QUEUING_PORT_ID = i + 1;
			RETURN(NO_ERROR);
		}
	RETURN(INVALID_CONFIG);
}

void GET_QUEUING_PORT_STATUS(QUEUING_PORT_ID_TYPE QUEUING_PORT_ID,
			     QUEUING_PORT_STATUS_TYPE *QUEUING_PORT_STATUS,
			     RETURN_CODE_TYPE *RETURN_CODE)
{
	struct mumu_port_status st = { 0 };
	struct apex_port *p;

	k_enter();
	p = port_of(QUEUING_PORT_ID, false);
	if (!p)
		RETURN(INVALID_PARAM);
	mumu_port_status(&p->port, &st);
	*QUEUING_PORT_STATUS = (QUEUING_PORT_STATUS_TYPE){
		.NB_MESSAGE = (MESSAGE_RANGE_TYPE)st.nb_messages,
		.MAX_NB_MESSAGE = (MESSAGE_RANGE_TYPE)p->port.max_nb_messages,
		.MAX_MESSAGE_SIZE = (MESSAGE_SIZE_TYPE)p->port.max_message_bytes,
		.PORT_DIRECTION = p->port.source ? SOURCE : DESTINATION,
		.WAITING_PROCESSES = p->waiting,
	};
	RETURN(NO_ERROR);
}

void CLEAR_QUEUING_PORT(QUEUING_PORT_ID_TYPE QUEUING_PORT_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	static APEX_BYTE scratch[SYSTEM_LIMIT_MESSAGE_SIZE]; /* masked: one caller at a time */
	struct apex_port *p;
	uint32_t got;
	bool overflowed;

	k_enter();
	p = port_of(QUEUING_PORT_ID, false);
	if (!p)
		RETURN(INVALID_PARAM);
	if (p->port.source)
		RETURN(INVALID_MODE);
	while (p->port.max_message_bytes <= sizeof(scratch) &&
	       try_once(p, scratch, 0, &got, &overflowed) == 0)
		;
	RETURN(NO_ERROR);
}
