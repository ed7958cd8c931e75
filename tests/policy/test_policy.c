/* SPDX-License-Identifier: MIT */
/* Unit tests of the policy library: numbers, CPU lists, timelines, hostile XML. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mumu/port.h"

#include "common/elf.h"
#include "policy/internal.h"

#define XSD MUMU_SOURCE_DIR "/etc/mumu.xsd"

static struct pol_host host(void)
{
	struct pol_host h;

	memset(&h, 0, sizeof(h));
	assert_int_equal(pol_host_parse_cpulist(&h, "0-1\n"), 0);
	h.guest_dirs[h.n_guest_dirs++] = MUMU_BUILD_GUEST_DIR;
	return h;
}

static void test_parse_u64(void **state)
{
	uint64_t v;

	assert_int_equal(pol_parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pol_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(pol_parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(pol_parse_u64("99999999999999999999999", &v), -ERANGE);
	assert_int_equal(pol_parse_u64("-1", &v), -EINVAL);
	assert_int_equal(pol_parse_u64("+1", &v), -EINVAL);
	assert_int_equal(pol_parse_u64(" 1", &v), -EINVAL);
	assert_int_equal(pol_parse_u64("1e6", &v), -EINVAL);
	assert_int_equal(pol_parse_u64("", &v), -EINVAL);
}

static void test_cpulist(void **state)
{
	struct pol_host h;

	assert_int_equal(pol_host_parse_cpulist(&h, "0-3,8,10-11\n"), 0);
	assert_int_equal(h.n_cpus_online, 7);
	assert_true(h.cpu_online[3] && h.cpu_online[8] && h.cpu_online[11]);
	assert_false(h.cpu_online[4] || h.cpu_online[9]);
	assert_string_equal(h.online_text, "0-3,8,10-11");
	assert_int_equal(pol_host_parse_cpulist(&h, "3-1"), -EINVAL);
	assert_int_equal(pol_host_parse_cpulist(&h, "0-99999"), -EINVAL);
	assert_int_equal(pol_host_parse_cpulist(&h, "x"), -EINVAL);
	assert_int_equal(pol_host_parse_cpulist(&h, ""), -EINVAL);
}

/* A hand-built system: a on core 0, b on core 1, mc on cores 0 and 1. */
static void build(struct pol_system *sys, struct pol_partition *p, struct pol_schedule *s,
		  struct pol_window *w)
{
	memset(sys, 0, sizeof(*sys));
	memset(p, 0, 3 * sizeof(*p));
	strcpy(p[0].name, "a");
	p[0].n_cores = 1;
	p[0].cores[0].physical_core_id = 0;
	strcpy(p[1].name, "b");
	p[1].n_cores = 1;
	p[1].cores[0].physical_core_id = 1;
	strcpy(p[2].name, "mc");
	p[2].n_cores = 2;
	p[2].cores[0] = (struct pol_core_mapping){ .logical_core_id = 0, .physical_core_id = 0 };
	p[2].cores[1] = (struct pol_core_mapping){ .logical_core_id = 1, .physical_core_id = 1 };
	w[0] = (struct pol_window){ .partition = 2, .offset_ns = 600, .duration_ns = 300 };
	w[1] = (struct pol_window){ .partition = 0, .offset_ns = 0, .duration_ns = 500 };
	w[2] = (struct pol_window){ .partition = 1, .offset_ns = 100, .duration_ns = 200 };
	w[3] = (struct pol_window){ .partition = 0, .offset_ns = 900, .duration_ns = 100 };
	*s = (struct pol_schedule){ .id = 1, .major_frame_ns = 1000, .n_windows = 4, .windows = w };
	sys->partitions = p;
	sys->n_partitions = 3;
	sys->schedules = s;
	sys->n_schedules = 1;
}

static void test_core_windows(void **state)
{
	struct pol_system sys;
	struct pol_partition p[3];
	struct pol_schedule s;
	struct pol_window w[4];
	struct pol_core_window cw[8];
	size_t n;

	build(&sys, p, &s, w);
	n = pol_core_windows(&sys, &s, 0, cw, 8);
	assert_int_equal(n, 3);
	assert_int_equal(cw[0].partition, 0);
	assert_int_equal(cw[0].offset_ns, 0);
	assert_int_equal(cw[1].partition, 2);
	assert_int_equal(cw[1].vcpu, 0);
	assert_int_equal(cw[2].offset_ns, 900);
	n = pol_core_windows(&sys, &s, 1, cw, 8);
	assert_int_equal(n, 2);
	assert_int_equal(cw[0].partition, 1);
	assert_int_equal(cw[1].vcpu, 1);
	assert_int_equal(pol_core_windows(&sys, &s, 1, cw, 1), 2); /* count beyond max */
	assert_int_equal(pol_core_windows(&sys, &s, 5, cw, 8), 0);
	assert_true(pol_core_used(&sys, 1));
	assert_false(pol_core_used(&sys, 2));
}

static void test_window_time(void **state)
{
	struct pol_system sys;
	struct pol_partition p[3];
	struct pol_schedule s;
	struct pol_window w[4];

	build(&sys, p, &s, w);
	assert_int_equal(pol_window_time_in(&s, 0, 0, 1000), 600);
	assert_int_equal(pol_window_time_in(&s, 0, 0, 500), 500);
	assert_int_equal(pol_window_time_in(&s, 0, 400, 950), 150);
	assert_int_equal(pol_window_time_in(&s, 1, 0, 100), 0);
	assert_int_equal(pol_window_time_in(&s, 2, 700, 800), 100);
}

static void test_timeline_render(void **state)
{
	struct pol_system sys;
	struct pol_partition p[3];
	struct pol_schedule s;
	struct pol_window w[4];
	char bar[11];

	build(&sys, p, &s, w);
	pol_timeline_render(&sys, &s, 0, bar, 10);
	assert_string_equal(bar, "aaaaa.mmma");
	pol_timeline_render(&sys, &s, 1, bar, 10);
	assert_string_equal(bar, ".bb...mmm.");
	w[2].duration_ns = 1; /* too short for a cell: still drawn */
	pol_timeline_render(&sys, &s, 1, bar, 10);
	assert_string_equal(bar, ".b....mmm.");
}

static int load_text(const char *text, struct pol_system **sys, struct pol_diags *d)
{
	struct pol_host h = host();

	return pol_load_buffer("mem.xml", text, strlen(text), XSD, &h, sys, d);
}

static void test_load_valid(void **state)
{
	static const char text[] =
	    "<Module Name=\"m\"><Partitions><Partition>"
	    "<PartitionDefinition Identifier=\"4\" Name=\"x\" BinaryPath=\"hello.bin\"/>"
	    "<CoreAffinity><CoreMapping LogicalCoreId=\"1\" PhysicalCoreId=\"0\"/>"
	    "<CoreMapping LogicalCoreId=\"0\" PhysicalCoreId=\"1\"/></CoreAffinity>"
	    "</Partition></Partitions>"
	    "<Schedules MajorFrameDuration=\"1000000\" ScheduleIdentifier=\"3\" "
	    "InitialModuleSchedule=\"true\">"
	    "<PartitionTimeWindow PartitionNameRef=\"x\" Duration=\"500000\" Offset=\"0\"/>"
	    "</Schedules></Module>";
	struct pol_diags d = { 0 };
	struct pol_system *sys = NULL;

	assert_int_equal(load_text(text, &sys, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(sys->name, "m");
	assert_int_equal(sys->partitions[0].id, 4);
	assert_int_equal(sys->partitions[0].memory_bytes, POL_DEFAULT_MEMORY_BYTES);
	/* Stored by logical core id. */
	assert_int_equal(sys->partitions[0].cores[0].physical_core_id, 1);
	assert_int_equal(sys->partitions[0].cores[1].physical_core_id, 0);
	assert_true(sys->partitions[0].binary_bytes > 0);
	assert_int_equal(sys->schedules[sys->initial_schedule].id, 3);
	assert_int_equal(sys->schedules[0].windows[0].partition, 0);
	assert_ptr_equal(pol_partition_by_name(sys, "x"), &sys->partitions[0]);
	assert_null(pol_partition_by_name(sys, "y"));
	assert_int_equal(pol_schedule_index_by_id(sys, 3), 0);
	assert_true(pol_schedule_index_by_id(sys, 9) == SIZE_MAX);
	/* no HealthMonitor: the defaults */
	assert_int_equal(sys->partitions[0].restart_limit, POL_HM_RESTART_LIMIT_DEFAULT);
	assert_int_equal(sys->partitions[0].restart_period_ns, POL_HM_RESTART_PERIOD_DEFAULT_NS);
	for (int k = 0; k < POL_HM_ERROR_COUNT; k++)
		assert_int_equal(sys->partitions[0].hm_actions[k], pol_hm_default_action(k));
	pol_free(sys);
	pol_diags_free(&d);
}

/* A HealthMonitor overrides the errors it names and keeps the defaults of the others. */
static void test_load_health_monitor(void **state)
{
	static const char text[] =
	    "<Module Name=\"m\"><Partitions><Partition>"
	    "<PartitionDefinition Identifier=\"1\" Name=\"x\" BinaryPath=\"hello.bin\"/>"
	    "<CoreAffinity><CoreMapping LogicalCoreId=\"0\" PhysicalCoreId=\"0\"/></CoreAffinity>"
	    "<HealthMonitor RestartLimit=\"7\" RestartPeriod=\"5000\">"
	    "<ErrorAction Error=\"VMM_DIED\" Action=\"WARM_START\"/>"
	    "<ErrorAction Error=\"APPLICATION_ERROR\" Action=\"SHUTDOWN\"/>"
	    "</HealthMonitor></Partition></Partitions>"
	    "<Schedules MajorFrameDuration=\"1000000\" ScheduleIdentifier=\"1\" "
	    "InitialModuleSchedule=\"true\">"
	    "<PartitionTimeWindow PartitionNameRef=\"x\" Duration=\"500000\" Offset=\"0\"/>"
	    "</Schedules></Module>";
	struct pol_diags d = { 0 };
	struct pol_system *sys = NULL;
	const struct pol_partition *p;

	(void)state;
	assert_int_equal(load_text(text, &sys, &d), 0);
	p = &sys->partitions[0];
	assert_int_equal(p->restart_limit, 7);
	assert_int_equal(p->restart_period_ns, 5000);
	assert_int_equal(p->hm_actions[POL_HM_VMM_DIED], POL_ACTION_WARM_START);
	assert_int_equal(p->hm_actions[POL_HM_APPLICATION_ERROR], POL_ACTION_SHUTDOWN);
	assert_int_equal(p->hm_actions[POL_HM_GUEST_CRASH], POL_ACTION_COLD_START);
	assert_int_equal(p->hm_actions[POL_HM_DEADLINE_MISSED], POL_ACTION_IGNORE);
	pol_free(sys);
	pol_diags_free(&d);
}

static void test_xxe_never_reads(void **state)
{
	static const char text[] = "<!DOCTYPE Module [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
				   "<Module Name=\"&x;\"/>";
	struct pol_diags d = { 0 };
	struct pol_system *sys = NULL;

	assert_int_equal(load_text(text, &sys, &d), -EINVAL);
	assert_null(sys);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.items[0].line, 1);
	assert_non_null(strstr(d.items[0].msg, "DOCTYPE"));
	assert_null(strstr(d.items[0].msg, "root:"));
	pol_diags_free(&d);
}

static void test_entity_bomb_fast(void **state)
{
	char *text = malloc(1 << 16);
	struct pol_diags d = { 0 };
	struct pol_system *sys = NULL;
	struct timespec t0, t1;
	size_t n = 0;

	n +=
	    (size_t)sprintf(text + n, "<?xml version=\"1.0\"?>\n<!DOCTYPE m [<!ENTITY a \"aaaa\">");
	for (int i = 1; i < 30; i++)
		n += (size_t)sprintf(text + n, "<!ENTITY a%d \"&a%.0d;&a%.0d;&a%.0d;&a%.0d;\">", i,
				     i - 1, i - 1, i - 1, i - 1);
	sprintf(text + n, "]>\n<Module Name=\"&a29;\"/>");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(load_text(text, &sys, &d), -EINVAL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2); /* a safety net, not a benchmark */
	assert_int_equal(d.items[0].line, 2);
	pol_diags_free(&d);
	free(text);
}

static void test_hostile_bytes(void **state)
{
	static const char nul[] = "<Module Name=\"a\0b\"/>";
	struct pol_host h = host();
	struct pol_diags d = { 0 };
	struct pol_system *sys = NULL;
	size_t big = (1U << 20) + 1;
	char *huge = malloc(big);

	assert_int_equal(pol_load_buffer("nul.xml", nul, sizeof(nul) - 1, XSD, &h, &sys, &d),
			 -EINVAL);
	assert_non_null(strstr(d.items[0].msg, "NUL"));
	pol_diags_free(&d);
	memset(huge, ' ', big);
	assert_int_equal(pol_load_buffer("huge.xml", huge, big, XSD, &h, &sys, &d), -EINVAL);
	assert_non_null(strstr(d.items[0].msg, "larger than"));
	pol_diags_free(&d);
	assert_int_equal(pol_load_buffer("t.xml", "<Module", 7, XSD, &h, &sys, &d), -EINVAL);
	assert_true(d.n >= 1);
	pol_diags_free(&d);
	assert_int_equal(pol_load("/nonexistent/x.xml", XSD, &h, &sys, &d), -EINVAL);
	assert_int_equal(d.items[0].line, 0);
	assert_non_null(strstr(d.items[0].msg, "cannot read"));
	pol_diags_free(&d);
	assert_int_equal(load_text("<Module Name=\"m\"/>", &sys, &d), -EINVAL);
	pol_diags_free(&d);
	assert_null(sys);
	free(huge);
}

/* Where each partition sees shared memories and ports, and which memory backs them. */
static void test_regions(void **state)
{
	struct pol_host h = host();
	struct pol_diags d = { 0 };
	struct pol_system *sys = NULL;
	struct pol_region r[MUMU_REGION_MAX];
	size_t n;

	assert_int_equal(
	    pol_load(MUMU_SOURCE_DIR "/tests/configs/pass/ports.xml", XSD, &h, &sys, &d), 0);
	/* map (shared memory 0), channel s (object 1), channel q: ring 2, ACK 3 */
	assert_int_equal(pol_object_count(sys), 4);
	assert_int_equal(pol_object_bytes(sys, 0), 65536);
	assert_int_equal(pol_object_bytes(sys, 1), mumu_sampling_bytes(64));
	assert_int_equal(pol_object_bytes(sys, 2), mumu_queue_bytes(64, 8));
	assert_int_equal(pol_object_bytes(sys, 3), MUMU_PAGE_BYTES);
	assert_int_equal(pol_object_bytes(sys, 4), 0);
	/* a, the writer: map, s_out, q_out's ring (rw) and its ACK page (ro), back to back */
	n = pol_partition_regions(sys, 0, r, MUMU_REGION_MAX);
	assert_int_equal(n, 4);
	assert_string_equal(r[0].region.name, "map");
	assert_int_equal(r[0].region.gpa, MUMU_REGION_GPA);
	assert_int_equal(r[0].region.access, MUMU_ACCESS_WRITE);
	assert_int_equal(r[0].object, 0);
	assert_string_equal(r[1].region.name, "s_out");
	assert_int_equal(r[1].region.kind, MUMU_REGION_SAMPLING_PORT);
	assert_int_equal(r[1].region.gpa, MUMU_REGION_GPA + 65536);
	assert_int_equal(r[1].region.refresh_period_ns, 1000000);
	assert_int_equal(r[1].object, 1);
	assert_int_equal(r[2].region.kind, MUMU_REGION_QUEUING_PORT);
	assert_int_equal(r[2].region.access, MUMU_ACCESS_WRITE);
	assert_int_equal(r[2].region.max_nb_messages, 8);
	assert_int_equal(r[2].object, 2);
	assert_int_equal(r[3].region.kind, MUMU_REGION_QUEUING_ACK);
	assert_int_equal(r[3].region.access, MUMU_ACCESS_READ);
	assert_int_equal(r[3].region.gpa, r[2].region.gpa + r[2].region.size_bytes);
	assert_int_equal(r[3].object, 3);
	/* b, a reader: the same objects, read-only, its ACK page writable; its own RefreshPeriod */
	n = pol_partition_regions(sys, 1, r, MUMU_REGION_MAX);
	assert_int_equal(n, 4);
	assert_int_equal(r[0].region.access, MUMU_ACCESS_READ);
	assert_string_equal(r[1].region.name, "s_in");
	assert_int_equal(r[1].region.access, MUMU_ACCESS_READ);
	assert_int_equal(r[1].region.refresh_period_ns, 5000000);
	assert_int_equal(r[1].object, 1);
	assert_int_equal(r[2].region.access, MUMU_ACCESS_READ);
	assert_int_equal(r[3].region.access, MUMU_ACCESS_WRITE);
	/* c reads map and s; a short array gets what fits and the whole count */
	assert_int_equal(pol_partition_regions(sys, 2, r, 1), 2);
	assert_int_equal(r[0].object, 0);
	pol_free(sys);
	pol_diags_free(&d);
}

static void test_action_names(void **state)
{
	assert_string_equal(pol_action_name(POL_ACTION_COLD_START), "COLD_START");
	assert_string_equal(pol_action_name(POL_ACTION_SHUTDOWN), "SHUTDOWN");
	assert_string_equal(pol_action_name(POL_ACTION_COUNT), "?");
}

/* An ELF64 image of one PT_LOAD segment at vaddr, filesz bytes of file, memsz in RAM. */
static size_t make_elf(uint8_t *buf, uint64_t vaddr, uint64_t filesz, uint64_t memsz,
		       uint64_t entry)
{
	Elf64_Ehdr *h = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*h));

	memset(buf, 0, 4096);
	memcpy(h->e_ident, ELFMAG, SELFMAG);
	h->e_ident[EI_CLASS] = ELFCLASS64;
	h->e_ident[EI_DATA] = ELFDATA2LSB;
	h->e_type = ET_EXEC;
	h->e_machine = EM_X86_64;
	h->e_entry = entry;
	h->e_phoff = sizeof(*h);
	h->e_phentsize = sizeof(*ph);
	h->e_phnum = 1;
	*ph = (Elf64_Phdr){ .p_type = PT_LOAD,
			    .p_offset = 256,
			    .p_vaddr = vaddr,
			    .p_paddr = vaddr,
			    .p_filesz = filesz,
			    .p_memsz = memsz };
	return 256 + filesz;
}

/* ELF images (common/elf.c): the plan of a good one; every malformed one refused, never read
 * outside the buffer. */
static void test_elf_plan(void **state)
{
	static uint8_t buf[4096];
	const uint64_t lo = MUMU_USER_GPA, hi = 0x1000000;
	struct elf_plan plan;
	char why[160];
	size_t n;

	(void)state;
	n = make_elf(buf, lo, 100, 300, lo + 8);
	assert_int_equal(elf_plan(buf, n, lo, hi, &plan, why, sizeof(why)), 0);
	assert_int_equal(plan.n, 1);
	assert_true(plan.entry == lo + 8 && plan.end == lo + 300);
	assert_true(plan.seg[0].offset == 256 && plan.seg[0].filesz == 100);
	/* truncated: the segment's bytes, the header, the program headers */
	assert_int_equal(elf_plan(buf, n - 1, lo, hi, &plan, why, sizeof(why)), -ENOEXEC);
	assert_int_equal(elf_plan(buf, 40, lo, hi, &plan, why, sizeof(why)), -ENOEXEC);
	assert_int_equal(elf_plan(buf, 80, lo, hi, &plan, why, sizeof(why)), -ENOEXEC);
	/* below the user area, beyond RAM, wrapping around, filesz above memsz */
	make_elf(buf, 0x1000, 100, 100, 0x1000);
	assert_int_equal(elf_plan(buf, n, lo, hi, &plan, why, sizeof(why)), -ENOEXEC);
	make_elf(buf, hi - 16, 16, 32, hi - 16);
	assert_int_equal(elf_plan(buf, 256 + 16, lo, hi, &plan, why, sizeof(why)), -ENOEXEC);
	make_elf(buf, lo, 16, UINT64_MAX - 8, lo);
	assert_int_equal(elf_plan(buf, 256 + 16, lo, hi, &plan, why, sizeof(why)), -ENOEXEC);
	make_elf(buf, lo, 200, 100, lo);
	assert_int_equal(elf_plan(buf, 256 + 200, lo, hi, &plan, why, sizeof(why)), -ENOEXEC);
	/* the entry in no segment; a dynamic image; another machine; not ELF at all */
	n = make_elf(buf, lo, 100, 100, lo + 100);
	assert_int_equal(elf_plan(buf, n, lo, hi, &plan, why, sizeof(why)), -ENOEXEC);
	assert_non_null(strstr(why, "in no loadable segment"));
	make_elf(buf, lo, 100, 100, lo);
	((Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr)))->p_type = PT_INTERP;
	assert_int_equal(elf_plan(buf, n, lo, hi, &plan, why, sizeof(why)), -ENOEXEC);
	make_elf(buf, lo, 100, 100, lo);
	((Elf64_Ehdr *)buf)->e_machine = EM_AARCH64;
	assert_int_equal(elf_plan(buf, n, lo, hi, &plan, why, sizeof(why)), -ENOEXEC);
	assert_false(elf_is("\x7f"
			    "ELX",
			    4));
	assert_false(elf_is(buf, 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_core_windows),
		cmocka_unit_test(test_window_time),
		cmocka_unit_test(test_timeline_render),
		cmocka_unit_test(test_load_valid),
		cmocka_unit_test(test_xxe_never_reads),
		cmocka_unit_test(test_entity_bomb_fast),
		cmocka_unit_test(test_hostile_bytes),
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_load_health_monitor),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_elf_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
