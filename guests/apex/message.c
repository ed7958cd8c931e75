/* SPDX-License-Identifier: MIT */
/*
 * APEX blackboards and buffers (ARINC 653 P1 3.7.2.1-2): messages between the processes of a
 * partition, in partition memory set aside at creation.
 */
#include "apex/kernel.h"

#define RETURN(rc)                   \
	do {                         \
		*RETURN_CODE = (rc); \
		k_leave();           \
		return;              \
	} while (0)

struct blackboard {
	bool used;
	NAME_TYPE name;
	MESSAGE_SIZE_TYPE max_size, len;
	bool occupied;
	APEX_BYTE *data;
};

struct buffer {
	bool used;
	NAME_TYPE name;
	MESSAGE_SIZE_TYPE max_size;
	MESSAGE_RANGE_TYPE max_nb, nb, head; /* a ring of max_nb slots */
	QUEUING_DISCIPLINE_TYPE discipline;
	MESSAGE_SIZE_TYPE *lens;
	APEX_BYTE *data;
};

APEX_NAMED(struct blackboard);
APEX_NAMED(struct buffer);

static struct blackboard boards[SYSTEM_LIMIT_NUMBER_OF_BLACKBOARDS];
static struct buffer buffers[SYSTEM_LIMIT_NUMBER_OF_BUFFERS];

void k_message_reset(void)
{
	__builtin_memset(boards, 0, sizeof(boards));
	__builtin_memset(buffers, 0, sizeof(buffers));
}

static struct blackboard *board(BLACKBOARD_ID_TYPE id)
{
	return id >= 1 && id <= SYSTEM_LIMIT_NUMBER_OF_BLACKBOARDS && boards[id - 1].used
		   ? &boards[id - 1]
		   : NULL;
}

static struct buffer *buffer(BUFFER_ID_TYPE id)
{
	return id >= 1 && id <= SYSTEM_LIMIT_NUMBER_OF_BUFFERS && buffers[id - 1].used
		   ? &buffers[id - 1]
		   : NULL;
}

/* The queue a buffer's waiting senders and receivers are in: one each, one object address. */
static const void *senders(const struct buffer *b)
{
	return (const char *)b + 1;
}

void CREATE_BLACKBOARD(const char *BLACKBOARD_NAME, MESSAGE_SIZE_TYPE MAX_MESSAGE_SIZE,
		       BLACKBOARD_ID_TYPE *BLACKBOARD_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct blackboard *free;
	int unused;

	k_enter();
	if (apex.mode == NORMAL)
		RETURN(INVALID_MODE);
	if (MAX_MESSAGE_SIZE <= 0 || MAX_MESSAGE_SIZE > SYSTEM_LIMIT_MESSAGE_SIZE)
		RETURN(INVALID_PARAM);
	if (k_lookup(boards, sizeof(boards[0]), SYSTEM_LIMIT_NUMBER_OF_BLACKBOARDS, BLACKBOARD_NAME,
		     &unused) >= 0)
		RETURN(NO_ACTION);
	free = unused >= 0 ? &boards[unused] : NULL;
	if (!free || !(free->data = k_alloc((size_t)MAX_MESSAGE_SIZE, 16)))
		RETURN(INVALID_CONFIG);
	free->used = true;
	free->max_size = MAX_MESSAGE_SIZE;
	free->len = 0;
	free->occupied = false;
	k_name_copy(free->name, BLACKBOARD_NAME);
	*BLACKBOARD_ID = (BLACKBOARD_ID_TYPE)(free - boards) + 1;
	RETURN(NO_ERROR);
}

void DISPLAY_BLACKBOARD(BLACKBOARD_ID_TYPE BLACKBOARD_ID, MESSAGE_ADDR_TYPE MESSAGE_ADDR,
			MESSAGE_SIZE_TYPE LENGTH, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct blackboard *b;
	struct apex_proc *w;
	bool woke = false;

	k_enter();
	b = board(BLACKBOARD_ID);
	if (!b || !MESSAGE_ADDR || LENGTH <= 0 || LENGTH > b->max_size)
		RETURN(INVALID_PARAM);
	__builtin_memcpy(b->data, MESSAGE_ADDR, (size_t)LENGTH);
	b->len = LENGTH;
	b->occupied = true;
	while ((w = k_first_waiter(b, FIFO))) { /* every reader gets it */
		__builtin_memcpy(w->msg, b->data, (size_t)LENGTH);
		w->msg_len = LENGTH;
		k_wake(w, NO_ERROR);
		woke = true;
	}
	if (woke)
		k_preempt();
	RETURN(NO_ERROR);
}

void READ_BLACKBOARD(BLACKBOARD_ID_TYPE BLACKBOARD_ID, SYSTEM_TIME_TYPE TIME_OUT,
		     MESSAGE_ADDR_TYPE MESSAGE_ADDR, MESSAGE_SIZE_TYPE *LENGTH,
		     RETURN_CODE_TYPE *RETURN_CODE)
{
	struct blackboard *b;
	RETURN_CODE_TYPE rc;

	k_enter();
	b = board(BLACKBOARD_ID);
	*LENGTH = 0;
	if (!b || !MESSAGE_ADDR || TIME_OUT < INFINITE_TIME_VALUE)
		RETURN(INVALID_PARAM);
	if (b->occupied) {
		__builtin_memcpy(MESSAGE_ADDR, b->data, (size_t)b->len);
		*LENGTH = b->len;
		RETURN(NO_ERROR);
	}
	if (TIME_OUT == 0)
		RETURN(NOT_AVAILABLE);
	if (!k_may_wait())
		RETURN(INVALID_MODE);
	k_cur()->msg = MESSAGE_ADDR;
	rc = k_block(WAIT_OBJECT, b, k_deadline(TIME_OUT));
	if (rc == NO_ERROR)
		*LENGTH = k_cur()->msg_len;
	RETURN(rc);
}

void CLEAR_BLACKBOARD(BLACKBOARD_ID_TYPE BLACKBOARD_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct blackboard *b;

	k_enter();
	b = board(BLACKBOARD_ID);
	if (!b)
		RETURN(INVALID_PARAM);
	b->occupied = false;
	RETURN(NO_ERROR);
}

void GET_BLACKBOARD_ID(const char *BLACKBOARD_NAME, BLACKBOARD_ID_TYPE *BLACKBOARD_ID,
		       RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	RETURN(k_name_id(boards, sizeof(boards[0]), SYSTEM_LIMIT_NUMBER_OF_BLACKBOARDS,
			 BLACKBOARD_NAME, BLACKBOARD_ID));
}

void GET_BLACKBOARD_STATUS(BLACKBOARD_ID_TYPE BLACKBOARD_ID,
			   BLACKBOARD_STATUS_TYPE *BLACKBOARD_STATUS, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct blackboard *b;

	k_enter();
	b = board(BLACKBOARD_ID);
	if (!b)
		RETURN(INVALID_PARAM);
	*BLACKBOARD_STATUS = (BLACKBOARD_STATUS_TYPE){
		.EMPTY_INDICATOR = b->occupied ? OCCUPIED : EMPTY,
		.MAX_MESSAGE_SIZE = b->max_size,
		.WAITING_PROCESSES = k_waiters(b),
	};
	RETURN(NO_ERROR);
}

void CREATE_BUFFER(const char *BUFFER_NAME, MESSAGE_SIZE_TYPE MAX_MESSAGE_SIZE,
		   MESSAGE_RANGE_TYPE MAX_NB_MESSAGE, QUEUING_DISCIPLINE_TYPE QUEUING_DISCIPLINE,
		   BUFFER_ID_TYPE *BUFFER_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct buffer *free;
	int unused;

	k_enter();
	if (apex.mode == NORMAL)
		RETURN(INVALID_MODE);
	if (MAX_MESSAGE_SIZE <= 0 || MAX_MESSAGE_SIZE > SYSTEM_LIMIT_MESSAGE_SIZE ||
	    MAX_NB_MESSAGE <= 0 || MAX_NB_MESSAGE > SYSTEM_LIMIT_NUMBER_OF_MESSAGES ||
	    (QUEUING_DISCIPLINE != FIFO && QUEUING_DISCIPLINE != PRIORITY))
		RETURN(INVALID_PARAM);
	if (k_lookup(buffers, sizeof(buffers[0]), SYSTEM_LIMIT_NUMBER_OF_BUFFERS, BUFFER_NAME,
		     &unused) >= 0)
		RETURN(NO_ACTION);
	free = unused >= 0 ? &buffers[unused] : NULL;
	if (!free ||
	    !(free->data = k_alloc((size_t)MAX_MESSAGE_SIZE * (size_t)MAX_NB_MESSAGE, 16)) ||
	    !(free->lens = k_alloc(sizeof(*free->lens) * (size_t)MAX_NB_MESSAGE, 8)))
		RETURN(INVALID_CONFIG);
	free->used = true;
	free->max_size = MAX_MESSAGE_SIZE;
	free->max_nb = MAX_NB_MESSAGE;
	free->nb = free->head = 0;
	free->discipline = QUEUING_DISCIPLINE;
	k_name_copy(free->name, BUFFER_NAME);
	*BUFFER_ID = (BUFFER_ID_TYPE)(free - buffers) + 1;
	RETURN(NO_ERROR);
}

static void put(struct buffer *b, const APEX_BYTE *msg, MESSAGE_SIZE_TYPE len)
{
	MESSAGE_RANGE_TYPE slot = (b->head + b->nb) % b->max_nb;

	__builtin_memcpy(b->data + (size_t)slot * (size_t)b->max_size, msg, (size_t)len);
	b->lens[slot] = len;
	b->nb++;
}

void SEND_BUFFER(BUFFER_ID_TYPE BUFFER_ID, MESSAGE_ADDR_TYPE MESSAGE_ADDR, MESSAGE_SIZE_TYPE LENGTH,
		 SYSTEM_TIME_TYPE TIME_OUT, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct buffer *b;
	struct apex_proc *w;

	k_enter();
	b = buffer(BUFFER_ID);
	if (!b || !MESSAGE_ADDR || LENGTH <= 0 || LENGTH > b->max_size ||
	    TIME_OUT < INFINITE_TIME_VALUE)
		RETURN(INVALID_PARAM);
	w = b->nb == 0 ? k_first_waiter(b, b->discipline) : NULL;
	if (w) { /* a receiver waits: straight to it */
		__builtin_memcpy(w->msg, MESSAGE_ADDR, (size_t)LENGTH);
		w->msg_len = LENGTH;
		k_wake(w, NO_ERROR);
		k_preempt();
		RETURN(NO_ERROR);
	}
	if (b->nb < b->max_nb) {
		put(b, MESSAGE_ADDR, LENGTH);
		RETURN(NO_ERROR);
	}
	if (TIME_OUT == 0)
		RETURN(NOT_AVAILABLE);
	if (!k_may_wait())
		RETURN(INVALID_MODE);
	k_cur()->msg = MESSAGE_ADDR; /* the receiver that makes room takes it */
	k_cur()->msg_len = LENGTH;
	RETURN(k_block(WAIT_OBJECT, senders(b), k_deadline(TIME_OUT)));
}

void RECEIVE_BUFFER(BUFFER_ID_TYPE BUFFER_ID, SYSTEM_TIME_TYPE TIME_OUT,
		    MESSAGE_ADDR_TYPE MESSAGE_ADDR, MESSAGE_SIZE_TYPE *LENGTH,
		    RETURN_CODE_TYPE *RETURN_CODE)
{
	struct buffer *b;
	struct apex_proc *w;
	RETURN_CODE_TYPE rc;

	k_enter();
	b = buffer(BUFFER_ID);
	*LENGTH = 0;
	if (!b || !MESSAGE_ADDR || TIME_OUT < INFINITE_TIME_VALUE)
		RETURN(INVALID_PARAM);
	if (b->nb > 0) {
		*LENGTH = b->lens[b->head];
		__builtin_memcpy(MESSAGE_ADDR, b->data + (size_t)b->head * (size_t)b->max_size,
				 (size_t)*LENGTH);
		b->head = (b->head + 1) % b->max_nb;
		b->nb--;
		w = k_first_waiter(senders(b), b->discipline);
		if (w) { /* a sender waited for the room */
			put(b, w->msg, w->msg_len);
			k_wake(w, NO_ERROR);
			k_preempt();
		}
		RETURN(NO_ERROR);
	}
	if (TIME_OUT == 0)
		RETURN(NOT_AVAILABLE);
	if (!k_may_wait())
		RETURN(INVALID_MODE);
	k_cur()->msg = MESSAGE_ADDR;
	rc = k_block(WAIT_OBJECT, b, k_deadline(TIME_OUT));
	if (rc == NO_ERROR)
		*LENGTH = k_cur()->msg_len;
	RETURN(rc);
}

void GET_BUFFER_ID(const char *BUFFER_NAME, BUFFER_ID_TYPE *BUFFER_ID,
		   RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	RETURN(k_name_id(buffers, sizeof(buffers[0]), SYSTEM_LIMIT_NUMBER_OF_BUFFERS, BUFFER_NAME,
			 BUFFER_ID));
}

void GET_BUFFER_STATUS(BUFFER_ID_TYPE BUFFER_ID, BUFFER_STATUS_TYPE *BUFFER_STATUS,
		       RETURN_CODE_TYPE *RETURN_CODE)
{
	struct buffer *b;

	k_enter();
	b = buffer(BUFFER_ID);
	if (!b)
		RETURN(INVALID_PARAM);
	*BUFFER_STATUS = (BUFFER_STATUS_TYPE){
		.NB_MESSAGE = b->nb,
		.MAX_NB_MESSAGE = b->max_nb,
		.MAX_MESSAGE_SIZE = b->max_size,
		.WAITING_PROCESSES = k_waiters(b) + k_waiters(senders(b)),
	};
	RETURN(NO_ERROR);
}
