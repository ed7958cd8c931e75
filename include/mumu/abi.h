/* SPDX-License-Identifier: MIT */
/* The ABI a mumu guest sees: memory layout, information page, hypercalls (docs/abi.md). */
#ifndef MUMU_ABI_H
#define MUMU_ABI_H

#include <stdint.h>

#define MUMU_ABI_VERSION 2
#define MUMU_INFO_MAGIC	 0x554d554dU /* "MUMU" little-endian */

#define MUMU_NAME_MAX	32 /* characters of a partition, module, port or region name */
#define MUMU_VCPU_MAX	8  /* vCPUs of one partition */
#define MUMU_REGION_MAX 16 /* shared regions and ports of one partition */

/*
 * Guest-physical layout. Guest-virtual equals guest-physical (identity map) over the first
 * MUMU_MAP_BYTES; page 0 is not mapped so that a null pointer faults, and the GDT and the
 * page tables are mapped for the CPU only (supervisor pages): the guest runs in user mode.
 *
 *   0x0000_0000  not mapped (null guard)
 *   0x0000_1000  GDT
 *   0x0000_2000  PML4, PDPT, 4 PDs (2 MiB pages), 1 PT (4 KiB pages of the first 2 MiB)
 *   0x0010_0000  user start: the flat binary is loaded and entered here
 *   ...          user area up to the stacks
 *   RAM end      vCPU stacks grow down from the end of RAM, MUMU_STACK_BYTES each,
 *                logical core 0 highest
 *   0x7FFF_F000  the hypercall page: never backed, a store to it is a hypercall
 *   0x8000_0000  shared regions and ports, in the order of the information page
 *   0xC000_0000  information page (read-only to the guest)
 */
#define MUMU_PAGE_BYTES	    0x1000ULL
#define MUMU_GDT_GPA	    0x1000ULL
#define MUMU_PML4_GPA	    0x2000ULL
#define MUMU_PDPT_GPA	    0x3000ULL
#define MUMU_PD_GPA	    0x4000ULL /* 4 pages */
#define MUMU_PT0_GPA	    0x8000ULL /* 4 KiB pages of [0, 2 MiB) */
#define MUMU_PAGING_END_GPA 0x9000ULL
#define MUMU_USER_GPA	    0x100000ULL
#define MUMU_STACK_BYTES    0x10000ULL
#define MUMU_HC_GPA	    0x7FFFF000ULL /* below 2 GiB: a sign-extended disp32 reaches it */
#define MUMU_REGION_GPA	    0x80000000ULL
#define MUMU_INFO_GPA	    0xC0000000ULL
#define MUMU_MAP_BYTES	    0x100000000ULL /* 4 GiB identity-mapped */

#define MUMU_RAM_MIN_BYTES     0x400000ULL   /* 4 MiB */
#define MUMU_RAM_DEFAULT_BYTES 0x1000000ULL  /* 16 MiB */
#define MUMU_RAM_MAX_BYTES     0x40000000ULL /* 1 GiB: RAM ends below MUMU_REGION_GPA */

/* GDT selectors set up by the VMM: flat 64-bit code and data, both user mode (RPL 3). */
#define MUMU_SEL_CODE 0x0B
#define MUMU_SEL_DATA 0x13

/*
 * Entry: every vCPU starts in 64-bit long mode, in user mode (CPL 3), at MUMU_USER_GPA with
 *   rdi = logical core id, rsi = MUMU_INFO_GPA, rsp = top of its own stack,
 *   rflags = 0x2 (interrupts off, IOPL 0). There is no IDT: any exception is a triple fault,
 *   and so is every privileged instruction (HLT, CLI, port I/O, control registers).
 */

/*
 * Hypercalls: `movl %eax, MUMU_HC_GPA` (a 4-byte store to the hypercall page) with
 * rax = number, arguments in rdi, rsi, rdx; the result comes back in rax (>= 0 success, a
 * negative MUMU_E* on error). Pointers are guest-physical (= guest-virtual) and must lie in
 * the partition's RAM from MUMU_PAGING_END_GPA on (never the GDT or the page tables).
 */

enum mumu_hc {
	MUMU_HC_CONSOLE_WRITE = 1, /* (buf, len): up to MUMU_CONSOLE_MAX bytes; -> bytes written */
	MUMU_HC_YIELD = 2,	   /* (): give up the rest of the current window */
	MUMU_HC_TIME_NS = 3,	   /* (): -> now, CLOCK_MONOTONIC of the host, in ns */
	MUMU_HC_RAISE_ERROR = 4,   /* (code, msg, len): ARINC RAISE_APPLICATION_ERROR */
	MUMU_HC_SET_SCHEDULE = 5,  /* (schedule id): request a module schedule switch */
	MUMU_HC_GET_SCHEDULE = 6,  /* (struct mumu_schedule_status *) */
	MUMU_HC_SET_MODE = 7,	   /* (enum mumu_mode): ARINC SET_PARTITION_MODE */
	MUMU_HC_GET_STATUS = 8,	   /* (struct mumu_partition_status *) */
	MUMU_HC_COUNT
};

#define MUMU_CONSOLE_MAX 4096 /* bytes per MUMU_HC_CONSOLE_WRITE */
/* Console bytes one vCPU may write per window; past them CONSOLE_WRITE is -MUMU_EAGAIN (the
 * bytes are dropped and counted). The supervisor also prints at most as much of a partition
 * per major frame. */
#define MUMU_CONSOLE_WINDOW_BYTES 16384
#define MUMU_ERROR_MSG_MAX	  128

/* Error results, the Linux errno values negated. */
#define MUMU_EPERM     1
#define MUMU_ENOENT    2
#define MUMU_EAGAIN    11
#define MUMU_EFAULT    14
#define MUMU_EINVAL    22
#define MUMU_ENOSYS    38
#define MUMU_EBADMSG   74 /* a port's shared memory holds what its peer could not have written */
#define MUMU_EMSGSIZE  90
#define MUMU_ETIMEDOUT 110

/* Partition operating modes (ARINC 653). */
enum mumu_mode {
	MUMU_MODE_IDLE = 0,
	MUMU_MODE_COLD_START = 1,
	MUMU_MODE_WARM_START = 2,
	MUMU_MODE_NORMAL = 3,
	MUMU_MODE_COUNT
};

enum mumu_start_condition {
	MUMU_START_NORMAL = 0,
	MUMU_START_PARTITION_RESTART = 1,
	MUMU_START_HM_MODULE_RESTART = 2,
	MUMU_START_HM_PARTITION_RESTART = 3,
	MUMU_START_COUNT
};

/* Health-monitor error codes (ARINC 653), as reported and configured. */
enum mumu_error {
	MUMU_ERR_DEADLINE_MISSED = 0,
	MUMU_ERR_APPLICATION_ERROR = 1,
	MUMU_ERR_NUMERIC_ERROR = 2,
	MUMU_ERR_ILLEGAL_REQUEST = 3,
	MUMU_ERR_STACK_OVERFLOW = 4,
	MUMU_ERR_MEMORY_VIOLATION = 5,
	MUMU_ERR_HARDWARE_FAULT = 6,
	MUMU_ERR_POWER_FAIL = 7,
	MUMU_ERR_COUNT
};

enum mumu_region_kind {
	MUMU_REGION_SHARED_MEMORY = 1,
	MUMU_REGION_SAMPLING_PORT = 2,
	MUMU_REGION_QUEUING_PORT = 3, /* the source's ring; the next entry is its ACK page */
	MUMU_REGION_QUEUING_ACK = 4,  /* the destination's page of a queuing port (mumu/port.h) */
};

/* A port's source has WRITE access to its data region, a destination READ (ACK: reversed). */
enum mumu_region_access {
	MUMU_ACCESS_READ = 1,  /* read-only slot; a write is a MEMORY_VIOLATION */
	MUMU_ACCESS_WRITE = 2, /* read-write */
};

struct mumu_region {
	char name[MUMU_NAME_MAX + 8]; /* NUL-terminated */
	uint64_t gpa;
	uint64_t size_bytes;
	uint32_t kind;	 /* enum mumu_region_kind */
	uint32_t access; /* enum mumu_region_access */
	uint32_t max_message_bytes;
	uint32_t max_nb_messages;
	uint64_t refresh_period_ns;
};
_Static_assert(sizeof(struct mumu_region) == 80, "struct mumu_region is ABI");

/*
 * The information page at MUMU_INFO_GPA, written by the VMM, read-only to the guest.
 * Fields below `dynamic` change at run time; read them through the hypercalls or re-read.
 */
struct mumu_info {
	uint32_t magic;	      /* MUMU_INFO_MAGIC */
	uint16_t abi_version; /* MUMU_ABI_VERSION */
	uint16_t size_bytes;  /* sizeof(struct mumu_info) */
	uint32_t partition_id;
	uint32_t n_vcpus;
	char partition_name[MUMU_NAME_MAX + 8];
	char module_name[MUMU_NAME_MAX + 8];
	uint64_t ram_bytes;
	uint64_t image_bytes; /* size of the flat binary loaded at MUMU_USER_GPA */
	uint64_t tsc_khz;     /* guest TSC frequency */
	uint32_t physical_core_id[MUMU_VCPU_MAX]; /* indexed by logical core id */
	uint32_t n_regions;
	uint32_t reserved0;
	struct mumu_region regions[MUMU_REGION_MAX];
	/* dynamic */
	uint32_t mode;		  /* enum mumu_mode */
	uint32_t start_condition; /* enum mumu_start_condition */
	/*
	 * Static again: a guest TSC reading and the CLOCK_MONOTONIC ns of the same instant, taken
	 * by the VMM from KVM's TSC offset (exact to well under a microsecond); both 0 where KVM
	 * does not tell the offset. With tsc_khz a guest turns its TSC into the schedule's clock
	 * without a hypercall; tsc_khz is rounded to a kHz, so re-anchor (mumu_time_ns) for long
	 * spans.
	 */
	uint64_t clock_tsc;
	uint64_t clock_ns;
	uint64_t reserved1[5];
};
_Static_assert(sizeof(struct mumu_info) <= MUMU_PAGE_BYTES, "information page is one page");
_Static_assert(sizeof(struct mumu_info) == 1504, "struct mumu_info is ABI");

struct mumu_schedule_status {
	uint64_t time_of_last_switch_ns; /* CLOCK_MONOTONIC */
	uint32_t current_schedule_id;
	uint32_t next_schedule_id; /* equals current when no switch is pending */
};
_Static_assert(sizeof(struct mumu_schedule_status) == 16, "ABI");

struct mumu_partition_status {
	uint32_t partition_id;
	uint32_t mode;		  /* enum mumu_mode */
	uint32_t start_condition; /* enum mumu_start_condition */
	uint32_t n_restarts;
	uint64_t period_ns;   /* PartitionPeriodicity Period, 0 when none */
	uint64_t duration_ns; /* PartitionPeriodicity Duration, 0 when none */
};
_Static_assert(sizeof(struct mumu_partition_status) == 32, "ABI");

#endif
