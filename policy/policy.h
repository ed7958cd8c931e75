/* SPDX-License-Identifier: MIT */
/* The system policy: an XML file turned into a validated, immutable model (pure library). */
#ifndef MUMU_POLICY_POLICY_H
#define MUMU_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mumu/abi.h"

#define POL_NAME_MAX MUMU_NAME_MAX /* characters, without the terminating NUL */
#define POL_VCPU_MAX MUMU_VCPU_MAX
#define POL_CPU_MAX  1024 /* physical core ids are below this */
#define POL_PATH_MAX 4096
/* The scheduler cannot honour windows or frames shorter than this (see docs/config.md). */
#define POL_MIN_WINDOW_NS	 100000ULL /* 100 us */
#define POL_DEFAULT_MEMORY_BYTES MUMU_RAM_DEFAULT_BYTES

enum pol_action {
	POL_ACTION_IGNORE,
	POL_ACTION_IDLE,
	POL_ACTION_COLD_START,
	POL_ACTION_WARM_START,
	POL_ACTION_SHUTDOWN, /* the whole module stops: health-monitor tables only */
	POL_ACTION_COUNT
};

/* What the health monitor distinguishes (docs/health.md); the XML names are these names. */
enum pol_hm_error {
	POL_HM_VMM_DIED,	  /* the VMM process ended (signal, exit, sandbox kill) */
	POL_HM_GUEST_CRASH,	  /* a fatal guest fault: triple fault, internal error, ... */
	POL_HM_MEMORY_VIOLATION,  /* a fatal access outside the guest's memory or to a RO region */
	POL_HM_ILLEGAL_REQUEST,	  /* bad hypercall, refused schedule or mode request */
	POL_HM_DEADLINE_MISSED,	  /* window enforcement had to stop the VMM */
	POL_HM_APPLICATION_ERROR, /* RAISE_APPLICATION_ERROR */
	POL_HM_ERROR_COUNT
};

/* Restart budget: at most RestartLimit restarts in any RestartPeriod, then IDLE. */
#define POL_HM_RESTART_LIMIT_DEFAULT	 3
#define POL_HM_RESTART_LIMIT_MAX	 1000
#define POL_HM_RESTART_PERIOD_DEFAULT_NS 60000000000ULL /* 60 s */

struct pol_core_mapping {
	uint32_t logical_core_id;
	uint32_t physical_core_id;
	int line;
};

enum pol_port_kind {
	POL_PORT_SAMPLING,
	POL_PORT_QUEUING,
};

/* A SamplingPort or QueuingPort of a partition. */
struct pol_port {
	char name[POL_NAME_MAX + 1];
	enum pol_port_kind kind;
	bool source; /* Direction="SOURCE", else DESTINATION */
	uint32_t max_message_bytes;
	uint32_t max_nb_messages;   /* queuing */
	uint64_t refresh_period_ns; /* sampling */
	size_t channel;		    /* index into pol_system.channels (SIZE_MAX: none) */
	int line;
};

struct pol_partition {
	uint32_t id;
	char name[POL_NAME_MAX + 1];
	char binary_path[POL_PATH_MAX];	    /* as written in the XML */
	char binary_resolved[POL_PATH_MAX]; /* the file found (see pol_load), empty if none */
	uint64_t binary_bytes;
	/* What the image is (pol_link): an ELF executable (its entry and extent, or why it cannot
	 * be loaded) or a flat binary entered at MUMU_USER_GPA. */
	bool binary_elf;
	uint64_t binary_entry;
	uint64_t binary_end; /* highest address loaded, exclusive */
	char binary_problem[160];
	enum pol_action schedule_change_action;
	bool set_module_schedule;
	bool system_partition;
	bool has_periodicity;
	uint64_t period_ns;
	uint64_t duration_ns;
	int periodicity_line;
	uint64_t
	    memory_bytes; /* guest RAM; MemorySize attribute, default POL_DEFAULT_MEMORY_BYTES */
	size_t n_cores;
	struct pol_core_mapping cores[POL_VCPU_MAX]; /* indexed by logical core id */
	/* HealthMonitor: the action per error (defaults: fatal ones COLD_START, else IGNORE) */
	enum pol_action hm_actions[POL_HM_ERROR_COUNT];
	uint32_t restart_limit;
	uint64_t restart_period_ns;
	size_t n_ports;
	struct pol_port ports[MUMU_REGION_MAX];
	int line;
};

/* One end of a channel, or one Access to a shared memory, as written and as resolved. */
struct pol_ref {
	char partition_ref[POL_NAME_MAX + 33];
	char port_ref[POL_NAME_MAX + 33]; /* channels only */
	size_t partition;		  /* SIZE_MAX when unresolved */
	size_t port;			  /* index into the partition's ports */
	bool write;			  /* shared memory: Mode="WRITE" */
	int line;
};

struct pol_channel {
	char name[POL_NAME_MAX + 1];
	struct pol_ref source;
	size_t n_destinations;
	struct pol_ref *destinations;
	int line;
};

struct pol_shared_memory {
	char name[POL_NAME_MAX + 1];
	uint64_t size_bytes;
	size_t n_access;
	struct pol_ref *access;
	int line;
};

struct pol_window {
	size_t partition; /* index into pol_system.partitions */
	uint64_t offset_ns;
	uint64_t duration_ns;
	int line;
};

struct pol_schedule {
	uint32_t id;
	bool initial;
	uint64_t major_frame_ns;
	size_t n_windows;
	struct pol_window *windows;		/* in the order of the file */
	char (*window_refs)[POL_NAME_MAX + 33]; /* PartitionNameRef of each window, as written */
	int line;
};

struct pol_system {
	char name[POL_NAME_MAX + 1]; /* Module Name */
	char path[POL_PATH_MAX];     /* the config file */
	size_t n_partitions;
	struct pol_partition *partitions;
	size_t n_schedules;
	struct pol_schedule *schedules;
	size_t initial_schedule; /* index into schedules */
	size_t n_channels;
	struct pol_channel *channels;
	size_t n_shared_memories;
	struct pol_shared_memory *shared_memories;
	int line;
};

/* What the validator needs to know about the host; the caller fills it in (see pol_host_probe). */
struct pol_host {
	size_t n_cpus_online;
	bool cpu_online[POL_CPU_MAX];
	char online_text[64]; /* e.g. "0-1", for diagnostics */
	/* Directories searched, in order, for a relative BinaryPath after the config's own. */
	size_t n_guest_dirs;
	const char *guest_dirs[4];
};

/* One problem found in a config: FILE:LINE: message. */
struct pol_diag {
	char file[POL_PATH_MAX];
	int line; /* 0 when no line applies (e.g. the file cannot be opened) */
	char msg[512];
};

struct pol_diags {
	size_t n;
	size_t cap;
	struct pol_diag *items;
};

/*
 * Parse, validate against the schema and check a config. On success returns 0 and *ret_sys
 * (free with pol_free). On an invalid config returns -EINVAL with every problem in *diags;
 * other failures (out of memory) return another negative errno. *ret_sys is never written on
 * failure. schema_path names mumu.xsd.
 */
int pol_load(const char *path, const char *schema_path, const struct pol_host *host,
	     struct pol_system **ret_sys, struct pol_diags *diags);
void pol_free(struct pol_system *sys);

/* pol_load on a config already in memory; name is used in diagnostics and to resolve paths. */
int pol_load_buffer(const char *name, const char *buf, size_t size, const char *schema_path,
		    const struct pol_host *host, struct pol_system **ret_sys,
		    struct pol_diags *diags);

/* One window as a physical core sees it: partition P occupies every core P maps. */
struct pol_core_window {
	size_t partition; /* index into pol_system.partitions */
	uint32_t vcpu;	  /* P's logical core on this physical core */
	uint64_t offset_ns;
	uint64_t duration_ns;
};

/*
 * The windows of schedule s on physical core, sorted by offset. Writes at most max entries to
 * out and returns how many there are (which may exceed max).
 */
size_t pol_core_windows(const struct pol_system *sys, const struct pol_schedule *s, uint32_t core,
			struct pol_core_window *out, size_t max);

/* True when some partition maps a vCPU to this physical core. */
bool pol_core_used(const struct pol_system *sys, uint32_t core);

/* Window time of partition p inside [start_ns, end_ns) of one major frame of schedule s. */
uint64_t pol_window_time_in(const struct pol_schedule *s, size_t p, uint64_t start_ns,
			    uint64_t end_ns);

/*
 * Draw schedule s on core as width characters into buf (width + 1 bytes): each window is the
 * first letter of its partition's name, idle time is '.'.
 */
void pol_timeline_render(const struct pol_system *sys, const struct pol_schedule *s, uint32_t core,
			 char *buf, size_t width);

/* Fill host from sysconf and /sys/devices/system/cpu/online, with the default guest dirs. */
int pol_host_probe(struct pol_host *host);
/* Set host's online CPUs from a kernel CPU list ("0-3,8"). Returns 0 or -EINVAL. */
int pol_host_parse_cpulist(struct pol_host *host, const char *list);

void pol_diags_free(struct pol_diags *diags);
const char *pol_action_name(enum pol_action action);
const char *pol_hm_error_name(enum pol_hm_error error);
/* The action a partition gets for error when its HealthMonitor does not name it. */
enum pol_action pol_hm_default_action(enum pol_hm_error error);

/*
 * The shared memory partition p sees, in the order of its information page: its SharedMemory
 * accesses in the order of the file, then its ports in the order of the file (a queuing port
 * is two entries: its ring, then its ACK page). Each entry is backed by one memory object:
 * object indexes count shared memories, then per channel its ring and, if queuing, its ACK.
 */
struct pol_region {
	struct mumu_region region; /* gpa assigned from MUMU_REGION_GPA on, page-aligned */
	size_t object;
};
/* Writes up to max entries and returns how many p has (which may exceed max). */
size_t pol_partition_regions(const struct pol_system *sys, size_t p, struct pol_region *out,
			     size_t max);
size_t pol_object_count(const struct pol_system *sys);
uint64_t pol_object_bytes(const struct pol_system *sys, size_t object);

/* Lookups on a loaded system; return NULL / SIZE_MAX when absent. */
const struct pol_partition *pol_partition_by_name(const struct pol_system *sys, const char *name);
size_t pol_schedule_index_by_id(const struct pol_system *sys, uint32_t id);

#endif
