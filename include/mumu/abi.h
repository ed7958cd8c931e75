/* SPDX-License-Identifier: MIT */
/* The ABI a mumu guest sees: memory layout, information page, hypercalls (docs/abi.md). */
#ifndef MUMU_ABI_H
#define MUMU_ABI_H

#include <stdint.h>

/* Usable from C and C++ partition programs alike. */
#ifdef __cplusplus
#define MUMU_STATIC_ASSERT static_assert
#else
#define MUMU_STATIC_ASSERT _Static_assert
#endif

#define MUMU_ABI_VERSION 3
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
 *   0x0000_1000  system page: GDT, IDT, TSSs, exception stubs and their stacks
 *   0x0000_2000  PML4, PDPT, 4 PDs (2 MiB pages), 1 PT (4 KiB pages of the first 2 MiB),
 *                MUMU_PT_SPARE_COUNT spare PTs (a guard page splits its 2 MiB into 4 KiB pages)
 *   0x0010_0000  user start: the flat binary is loaded and entered here
 *   ...          user area up to the stacks
 *   RAM end      vCPU stacks grow down from the end of RAM, MUMU_STACK_BYTES each,
 *                logical core 0 highest; the lowest page of each is a guard page (not mapped:
 *                an overflow is a #PF, not a write into the next stack or the heap)
 *   0x7FFF_F000  the hypercall page: never backed, a store to it is a hypercall
 *   0x8000_0000  shared regions and ports, in the order of the information page
 *   0xC000_0000  information page (read-only to the guest)
 */
#define MUMU_PAGE_BYTES	    0x1000ULL
#define MUMU_SYSTEM_GPA	    0x1000ULL /* GDT, IDT, TSSs, exception stubs (the VMM's) */
#define MUMU_PML4_GPA	    0x2000ULL
#define MUMU_PDPT_GPA	    0x3000ULL
#define MUMU_PD_GPA	    0x4000ULL /* 4 pages */
#define MUMU_PT0_GPA	    0x8000ULL /* 4 KiB pages of [0, 2 MiB) */
#define MUMU_PT_SPARE_GPA   0x9000ULL
#define MUMU_PT_SPARE_COUNT 16u
#define MUMU_PAGING_END_GPA (MUMU_PT_SPARE_GPA + MUMU_PT_SPARE_COUNT * MUMU_PAGE_BYTES)
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
 *   rflags = 0x2 (interrupts off, IOPL 0). An exception (a privileged instruction is a #GP)
 *   goes to the VMM through the system page's IDT: an upcall when the vCPU registered for
 *   exceptions (MUMU_EV_EXCEPTION), else a fault that ends the partition.
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
	/* ABI 3: upcalls (struct mumu_vcpu_area) */
	MUMU_HC_UPCALL_REGISTER = 9, /* (const struct mumu_upcall_setup *): this vCPU's upcalls */
	MUMU_HC_TIMER_SET = 10,	     /* (deadline_ns, period_ns): this vCPU's timer, re-armed now */
	MUMU_HC_KICK = 11,	     /* (logical core id): raise MUMU_EV_KICK on that vCPU */
	MUMU_HC_GUARD = 12, /* (page): unmap this page of RAM until the restart (a guard) */
	MUMU_HC_COUNT
};

#define MUMU_CONSOLE_MAX 4096 /* bytes per MUMU_HC_CONSOLE_WRITE */
/* Guard pages a partition may make from one start to the next (MUMU_HC_GUARD; the vCPU stacks'
 * aside): each makes KVM drop its shadow page tables, which costs the host's other cores a
 * little too (docs/abi.md "Guard pages"); past them -MUMU_ENOSPC. */
#define MUMU_GUARDS_MAX 64
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
#define MUMU_ENOSPC    28
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
MUMU_STATIC_ASSERT(sizeof(struct mumu_region) == 80, "struct mumu_region is ABI");

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
	/*
	 * A random word chosen by the VMM at start-up: the stack protector's canary. Every vCPU's
	 * FS base is MUMU_FS_BASE, so %fs:0x28, where code built with -fstack-protector reads
	 * its canary (the x86-64 ABI's TCB slot), is this word, read-only to the guest.
	 */
	uint64_t stack_guard;
	/*
	 * vcpu_self[n] = n. Every vCPU's GS base is the address of its own entry
	 * (MUMU_GS_BASE(n)): `movl %gs:0, %eax` tells code which vCPU runs it, no exit.
	 */
	uint32_t vcpu_self[MUMU_VCPU_MAX];
};
MUMU_STATIC_ASSERT(sizeof(struct mumu_info) <= MUMU_PAGE_BYTES, "information page is one page");
MUMU_STATIC_ASSERT(sizeof(struct mumu_info) == 1504, "struct mumu_info is ABI");
#define MUMU_FS_BASE	   (MUMU_INFO_GPA + 1464 - 0x28) /* %fs:0x28 is mumu_info.stack_guard */
#define MUMU_GS_BASE(vcpu) (MUMU_INFO_GPA + 1472 + 4 * (uint64_t)(vcpu)) /* &vcpu_self[vcpu] */

/*
 * Upcalls (ABI 3, docs/abi.md "Upcalls"). A vCPU that registers (MUMU_HC_UPCALL_REGISTER) is
 * entered at its upcall entry, in user mode on its upcall stack, when one of the events it
 * asked for is pending and it has not masked them: the VMM saves the interrupted context in
 * the vCPU's area, sets area->masked and enters the entry with rdi = the area. The guest
 * takes the events (an atomic exchange of area->pending with 0) and returns to a context in
 * plain user-mode code: no exit. x87/SSE state is not touched by an upcall: a handler that
 * uses it or switches contexts saves it itself (FXSAVE64, the guest runtime does).
 */
enum mumu_event {
	MUMU_EV_TIMER = 1u << 0,     /* the vCPU's deadline passed (in a window) */
	MUMU_EV_WINDOW = 1u << 1,    /* a window of this vCPU started */
	MUMU_EV_KICK = 1u << 2,	     /* another vCPU of the partition kicked this one */
	MUMU_EV_EXCEPTION = 1u << 3, /* an exception in user code: vector, error_code, fault_addr */
	MUMU_EV_ALL = (1u << 4) - 1,
};

/* The context an upcall interrupted, saved by the VMM: every general register, rip, rflags. */
struct mumu_upcall_frame {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rflags, rip;
};
MUMU_STATIC_ASSERT(sizeof(struct mumu_upcall_frame) == 144, "ABI");

/*
 * A vCPU's upcall area in guest RAM (8-byte aligned, registered by UPCALL_REGISTER): the
 * guest writes the first block, the VMM reads it before every entry into the guest; the VMM
 * writes the rest at each upcall.
 */
struct mumu_vcpu_area {
	uint64_t deadline_ns; /* timer: absolute CLOCK_MONOTONIC ns, 0 = none; cleared when it
			       * fires unless periodic */
	uint64_t period_ns;   /* 0 = one-shot; else a fired deadline moves on by whole periods */
	uint32_t masked;      /* non-zero: no upcall now, events wait in pending */
	uint32_t pending;     /* MUMU_EV_* raised and not taken: the VMM sets bits, the guest
			       * takes them with an atomic exchange */
	/* written by the VMM */
	uint64_t armed_ns;	/* when the VMM's timer will next take the vCPU out: the earlier of
			       * the deadline and the window's end. A deadline set below it in
			       * the area alone is not seen before then: TIMER_SET */
	uint64_t window_end_ns; /* planned end of the current window */
	uint32_t vector;	/* MUMU_EV_EXCEPTION: the exception vector (0 #DE, 14 #PF, ...) */
	uint32_t reserved0;
	uint64_t error_code;		/* the exception's error code, 0 where it has none */
	uint64_t fault_addr;		/* #PF: the faulting address (CR2) */
	uint64_t upcalls;		/* upcalls entered so far */
	struct mumu_upcall_frame frame; /* the interrupted context of the latest upcall */
};
MUMU_STATIC_ASSERT(sizeof(struct mumu_vcpu_area) == 216, "ABI");

struct mumu_upcall_setup {
	uint64_t entry;	    /* user-mode entry, in RAM */
	uint64_t stack_top; /* 16-byte aligned, in RAM, with MUMU_UPCALL_STACK_MIN below it */
	uint64_t area;	    /* struct mumu_vcpu_area, 8-byte aligned, in RAM */
	uint32_t events;    /* MUMU_EV_* wanted; 0 with entry 0: unregister */
	uint32_t reserved;  /* 0 */
};
MUMU_STATIC_ASSERT(sizeof(struct mumu_upcall_setup) == 32, "ABI");

#define MUMU_UPCALL_STACK_MIN	 1024ULL
#define MUMU_TIMER_PERIOD_MIN_NS 50000ULL /* a shorter period counts as this */

struct mumu_schedule_status {
	uint64_t time_of_last_switch_ns; /* CLOCK_MONOTONIC */
	uint32_t current_schedule_id;
	uint32_t next_schedule_id; /* equals current when no switch is pending */
};
MUMU_STATIC_ASSERT(sizeof(struct mumu_schedule_status) == 16, "ABI");

struct mumu_partition_status {
	uint32_t partition_id;
	uint32_t mode;		  /* enum mumu_mode */
	uint32_t start_condition; /* enum mumu_start_condition */
	uint32_t n_restarts;
	uint64_t period_ns;   /* PartitionPeriodicity Period, 0 when none */
	uint64_t duration_ns; /* PartitionPeriodicity Duration, 0 when none */
};
MUMU_STATIC_ASSERT(sizeof(struct mumu_partition_status) == 32, "ABI");

#endif
