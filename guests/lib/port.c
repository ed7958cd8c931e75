/* SPDX-License-Identifier: MIT */
/* Sampling and queuing ports over shared memory (mumu/port.h has the layouts). */
#include "lib/port.h"

/* A reader retries when the writer overwrote its slot during the copy (two writes in one
 * copy); a writer that keeps doing that makes the read fail rather than wait for ever. */
#define SAMPLING_READ_TRIES 1024

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static bool same_name(const char *a, const char *b)
{
	size_t i = 0;

	for (; a[i] && a[i] == b[i]; i++)
		if (i == MUMU_NAME_MAX)
			return false;
	return a[i] == b[i];
}

static const struct mumu_region *find(const struct mumu_info *info, const char *name,
				      uint32_t *index)
{
	uint32_t n = info->n_regions < MUMU_REGION_MAX ? info->n_regions : MUMU_REGION_MAX;

	for (uint32_t i = 0; i < n; i++)
		if (info->regions[i].kind != MUMU_REGION_QUEUING_ACK &&
		    same_name(info->regions[i].name, name)) {
			*index = i;
			return &info->regions[i];
		}
	return NULL;
}

/* A sampling port has two slots (mumu/port.h); message n is in slot n % 2. */
static struct mumu_sampling_slot *sampling_slot(const struct mumu_port *port, uint64_t seq)
{
	return (struct mumu_sampling_slot *)(port->data + (seq & 1) * port->slot_bytes);
}

/* The number of the newest complete message, 0 when there is none. */
static uint64_t sampling_latest(const struct mumu_port *port)
{
	uint64_t a = load(&sampling_slot(port, 0)->seq), b = load(&sampling_slot(port, 1)->seq);

	a = a == MUMU_SEQ_WRITING ? 0 : a;
	b = b == MUMU_SEQ_WRITING ? 0 : b;
	return a > b ? a : b;
}

int mumu_port_open(const struct mumu_info *info, const char *name, uint32_t kind,
		   struct mumu_port *port)
{
	const struct mumu_region *r, *ack = NULL;
	uint32_t i;
	uint64_t want;

	r = find(info, name, &i);
	if (!r)
		return -MUMU_ENOENT;
	if (r->kind != kind || r->max_message_bytes == 0 ||
	    r->max_message_bytes > MUMU_PORT_MESSAGE_MAX)
		return -MUMU_EINVAL;
	if (kind == MUMU_REGION_SAMPLING_PORT) {
		want = mumu_sampling_bytes(r->max_message_bytes);
	} else if (kind == MUMU_REGION_QUEUING_PORT) {
		if (r->max_nb_messages == 0 || r->max_nb_messages > MUMU_QUEUE_DEPTH_MAX ||
		    i + 1 >= info->n_regions || i + 1 >= MUMU_REGION_MAX)
			return -MUMU_EINVAL;
		ack = &info->regions[i + 1];
		want = mumu_queue_bytes(r->max_message_bytes, r->max_nb_messages);
		if (ack->kind != MUMU_REGION_QUEUING_ACK || !same_name(ack->name, r->name) ||
		    ack->size_bytes < sizeof(struct mumu_queue_ack) || ack->access == r->access)
			return -MUMU_EINVAL;
	} else {
		return -MUMU_EINVAL;
	}
	if (r->size_bytes != want)
		return -MUMU_EINVAL;
	*port = (struct mumu_port){
		.region = r,
		.data = (uint8_t *)(uintptr_t)r->gpa,
		.ack = ack ? (struct mumu_queue_ack *)(uintptr_t)ack->gpa : NULL,
		.source = r->access == MUMU_ACCESS_WRITE,
		.kind = kind,
		.slot_bytes = kind == MUMU_REGION_SAMPLING_PORT
				  ? mumu_sampling_slot_bytes(r->max_message_bytes)
				  : mumu_queue_slot_bytes(r->max_message_bytes),
		.max_message_bytes = r->max_message_bytes,
		.max_nb_messages = r->max_nb_messages,
		.refresh_period_ns = r->refresh_period_ns,
	};
	if (kind == MUMU_REGION_SAMPLING_PORT && port->source)
		port->seq = sampling_latest(port); /* the numbering goes on after a restart */
	return 0;
}

void *mumu_region_find(const struct mumu_info *info, const char *name, uint64_t *size,
		       bool *writable)
{
	uint32_t i;
	const struct mumu_region *r = find(info, name, &i);

	if (!r || r->kind != MUMU_REGION_SHARED_MEMORY)
		return NULL;
	*size = r->size_bytes;
	*writable = r->access == MUMU_ACCESS_WRITE;
	return (void *)(uintptr_t)r->gpa;
}

/* Sampling */

int mumu_sampling_write(struct mumu_port *port, const void *msg, uint32_t len)
{
	struct mumu_sampling_slot *s;
	uint64_t seq;

	if (port->kind != MUMU_REGION_SAMPLING_PORT || !port->source)
		return -MUMU_EPERM;
	if (len > port->max_message_bytes)
		return -MUMU_EMSGSIZE;
	seq = ++port->seq; /* only this port handle writes the slots */
	s = sampling_slot(port, seq);
	/* Readers of the other slot are undisturbed; readers of this one see it change. */
	__atomic_store_n(&s->seq, MUMU_SEQ_WRITING, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE); /* the mark before any byte of the message */
	__builtin_memcpy(s + 1, msg, len);
	s->length = len;
	s->time_ns = mumu_now_ns();
	store(&s->seq, seq);
	return 0;
}

int mumu_sampling_read(struct mumu_port *port, void *buf, uint32_t size, uint32_t *len,
		       struct mumu_message_info *mi)
{
	bool none = false;

	if (port->kind != MUMU_REGION_SAMPLING_PORT)
		return -MUMU_EINVAL;
	for (int tries = 0; tries < SAMPLING_READ_TRIES; tries++) {
		uint64_t seq = sampling_latest(port), time_ns, now;
		struct mumu_sampling_slot *s;
		uint32_t n;

		/* None yet, or a fast writer marked each slot as we looked at it: look again. */
		none = seq == 0;
		if (none)
			continue;
		s = sampling_slot(port, seq);
		if (load(&s->seq) != seq)
			continue; /* the writer has lapped us (or the peer lies): look again */
		n = __atomic_load_n(&s->length, __ATOMIC_RELAXED);
		time_ns = __atomic_load_n(&s->time_ns, __ATOMIC_RELAXED);
		if (n > port->max_message_bytes)
			n = port->max_message_bytes + 1; /* judged after the check below */
		else if (n <= size)
			__builtin_memcpy(buf, s + 1, n);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq)
			continue;
		if (n > port->max_message_bytes)
			return -MUMU_EBADMSG;
		if (n > size)
			return -MUMU_EMSGSIZE;
		now = mumu_now_ns();
		*len = n;
		mi->seq = seq;
		mi->age_ns = now > time_ns ? now - time_ns : 0;
		mi->valid = mi->age_ns <= port->refresh_period_ns;
		mi->overflowed = false;
		return 0;
	}
	return none ? -MUMU_EAGAIN : -MUMU_EBADMSG;
}

/* Queuing */

static struct mumu_queue_header *queue_header(const struct mumu_port *port)
{
	return (struct mumu_queue_header *)port->data;
}

static struct mumu_queue_slot *queue_slot(const struct mumu_port *port, uint64_t n)
{
	return (struct mumu_queue_slot *)(port->data + sizeof(struct mumu_queue_header) +
					  (n % port->max_nb_messages) * port->slot_bytes);
}

/* Wait for the next window while the timeout allows: true to try again. */
static bool wait(uint32_t *timeout_windows)
{
	if (*timeout_windows == 0)
		return false;
	if (*timeout_windows != UINT32_MAX)
		(*timeout_windows)--;
	mumu_wait_window();
	return true;
}

int mumu_queuing_send(struct mumu_port *port, const void *msg, uint32_t len,
		      uint32_t timeout_windows)
{
	struct mumu_queue_header *h = queue_header(port);
	uint32_t timeout = timeout_windows;
	struct mumu_queue_slot *s;
	uint64_t head, tail;

	if (port->kind != MUMU_REGION_QUEUING_PORT || !port->source)
		return -MUMU_EPERM;
	if (len > port->max_message_bytes)
		return -MUMU_EMSGSIZE;
	for (;;) {
		head = h->head; /* only this partition writes it */
		tail = load(&port->ack->tail);
		if (tail > head)
			return -MUMU_EBADMSG; /* the receiver claims more than was sent */
		if (head - tail < port->max_nb_messages)
			break;
		if (!wait(&timeout)) {
			store(&h->overflows, h->overflows + 1);
			return timeout_windows ? -MUMU_ETIMEDOUT : -MUMU_EAGAIN;
		}
	}
	s = queue_slot(port, head);
	__builtin_memcpy(s + 1, msg, len);
	s->length = len;
	s->time_ns = mumu_now_ns();
	store(&h->head, head + 1);
	return 0;
}

int mumu_queuing_receive(struct mumu_port *port, void *buf, uint32_t size, uint32_t *len,
			 uint32_t timeout_windows, struct mumu_message_info *mi)
{
	const struct mumu_queue_header *h = queue_header(port);
	uint32_t timeout = timeout_windows;
	const struct mumu_queue_slot *s;
	uint64_t head, tail, overflows, now;
	uint32_t n;

	if (port->kind != MUMU_REGION_QUEUING_PORT || port->source)
		return -MUMU_EPERM;
	for (;;) {
		tail = port->ack->tail; /* only this partition writes it */
		head = load(&h->head);
		if (head < tail || head - tail > port->max_nb_messages)
			return -MUMU_EBADMSG;
		if (head != tail)
			break;
		if (!wait(&timeout))
			return timeout_windows ? -MUMU_ETIMEDOUT : -MUMU_EAGAIN;
	}
	s = queue_slot(port, tail);
	n = __atomic_load_n(&s->length, __ATOMIC_RELAXED);
	if (n > port->max_message_bytes)
		return -MUMU_EBADMSG;
	if (n > size)
		return -MUMU_EMSGSIZE;
	__builtin_memcpy(buf, s + 1, n);
	now = mumu_now_ns();
	*len = n;
	mi->seq = tail + 1;
	mi->age_ns = now > s->time_ns ? now - s->time_ns : 0;
	mi->valid = true;
	overflows = load(&h->overflows);
	mi->overflowed = overflows != port->ack->overflows_seen;
	port->ack->overflows_seen = overflows;
	store(&port->ack->tail, tail + 1);
	return 0;
}

int mumu_port_status(const struct mumu_port *port, struct mumu_port_status *st)
{
	*st = (struct mumu_port_status){
		.kind = port->kind,
		.source = port->source,
		.max_message_bytes = port->max_message_bytes,
		.max_nb_messages = port->max_nb_messages,
		.refresh_period_ns = port->refresh_period_ns,
	};
	if (st->kind == MUMU_REGION_SAMPLING_PORT) {
		st->nb_messages = sampling_latest(port);
	} else {
		uint64_t head = load(&queue_header(port)->head), tail = load(&port->ack->tail);

		if (head < tail || head - tail > port->max_nb_messages)
			return -MUMU_EBADMSG;
		st->nb_messages = head - tail;
	}
	return 0;
}
