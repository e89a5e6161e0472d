/*
 * The C boundary of job_submit_qubemem.so, tested the way slurmctld uses it: dlopen, then
 * job_submit / job_modify with hand-made job_desc_msg_t values. Built twice by the Makefile:
 * under AddressSanitizer + UBSan for `make test` (mode "test"), optimised for the latency
 * benchmark (mode "bench").
 *
 * The SLURM functions the plugin calls are provided here, like slurmctld and libslurmfull
 * provide them in the controller (the binary is linked with -rdynamic): the xstrdup family uses
 * malloc, so ASan reports any string the plugin frees or leaks wrongly.
 *
 * Usage: harness test PLUGIN.so CONFIG_DIR
 *        harness bench PLUGIN.so CONFIG_DIR ITERATIONS       (warm caches)
 *        harness bench-cold PLUGIN.so CONFIG_DIR ITERATIONS  (caches evicted before each call)
 *        harness trace PLUGIN.so CONFIG_DIR COMMENT         (for tools/hot-order.py, see trace())
 *        harness list                                        (the bench's qube: comments)
 * bench, bench-cold and trace use CONFIG_DIR/qubemem.conf when it exists (to measure other
 * settings), else an empty one; test always starts from an empty one.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

/* ---- what slurmctld and libslurmfull provide ---- */
slurm_conf_t slurm_conf;
static char last_log[4096];
static int log_lines, error_lines;
static bool quiet;

static void vlog(const char *level, const char *fmt, va_list ap)
{
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	if (!quiet)
		fprintf(stderr, "  [%s] %s\n", level, last_log);
}
void slurm_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("info", fmt, ap);
	va_end(ap);
	log_lines++;
}
void slurm_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("error", fmt, ap);
	va_end(ap);
	error_lines++;
}
void slurm_verbose(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("verbose", fmt, ap);
	va_end(ap);
	log_lines++;
}
char *slurm_xstrdup(const char *s) { return s ? strdup(s) : NULL; }
char *slurm_xstrdup_printf(const char *fmt, ...)
{
	char *out = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		out = NULL;
	va_end(ap);
	return out;
}
void slurm_xfree_ptr(void *p) { free(p); }
static uint32_t pending_job = 5;
bool test_job_array_pending(uint32_t job_id) { return job_id == pending_job; }

/* ---- the plugin ---- */
static int (*p_init)(void);
static int (*p_fini)(void);
static int (*p_submit)(job_desc_msg_t *, uint32_t, char **);
/* job_modify gained err_msg in 23.02 (see job_submit_qubemem.c); p_modify takes the old shape. */
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 2, 0)
static int (*p_modify_err)(job_desc_msg_t *, void *, uint32_t, char **);
static int p_modify(job_desc_msg_t *desc, void *job_ptr, uint32_t uid)
{
	char *err = NULL;
	int rc = p_modify_err(desc, job_ptr, uid, &err);
	free(err);
	return rc;
}
#define MODIFY_SYMBOL p_modify_err
#else
static int (*p_modify)(job_desc_msg_t *, void *, uint32_t);
#define MODIFY_SYMBOL p_modify
#endif

static int failures, checks;
#define CHECK(cond, ...)                                                                 \
	do {                                                                             \
		checks++;                                                                \
		if (!(cond)) {                                                           \
			failures++;                                                      \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
			fprintf(stderr, __VA_ARGS__);                                    \
			fputc('\n', stderr);                                             \
		}                                                                        \
	} while (0)

static job_desc_msg_t job(const char *comment, uint64_t memory)
{
	job_desc_msg_t desc;
	memset(&desc, 0, sizeof(desc));
	desc.comment = comment ? strdup(comment) : NULL;
	desc.pn_min_memory = memory;
	desc.min_cpus = NO_VAL;
	desc.min_nodes = NO_VAL;
	desc.num_tasks = NO_VAL;
	desc.cpus_per_task = NO_VAL16;
	desc.ntasks_per_node = NO_VAL16;
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 11, 0)
	desc.step_id.job_id = NO_VAL;
#else
	desc.job_id = NO_VAL;
#endif
	return desc;
}

static void release(job_desc_msg_t *desc, char *err)
{
	free(desc->comment);
	free(desc->admin_comment);
	free(desc->job_id_str);
	free(err);
}

static const char VALID[] = "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU";

/* A valid comment gets memory, the same figure in the message and the record. */
static void test_valid(void)
{
	job_desc_msg_t desc = job(VALID, NO_VAL64);
	char *err = NULL;
	int rc = p_submit(&desc, 1000, &err);
	CHECK(rc == SLURM_SUCCESS, "rc=%d", rc);
	CHECK(desc.pn_min_memory > 256 && desc.pn_min_memory < MEM_PER_CPU, "mem=%lu",
	      (unsigned long)desc.pn_min_memory);
	char expect[128];
	snprintf(expect, sizeof(expect), "memory set to %lu MiB per node", (unsigned long)desc.pn_min_memory);
	CHECK(err && strstr(err, expect), "err=%s", err ? err : "(null)");
	snprintf(expect, sizeof(expect), "request_mib=%lu user_mib=none", (unsigned long)desc.pn_min_memory);
	CHECK(desc.admin_comment && !strncmp(desc.admin_comment, "qubemem:v1 action=set ", 22) &&
		      strstr(desc.admin_comment, expect), "admin=%s", desc.admin_comment);
	/* The comment keeps the user's text and gains a copy of the record (comment_record). */
	char copy[1100];
	snprintf(copy, sizeof(copy), "%s; %s", VALID, desc.admin_comment ? desc.admin_comment : "");
	CHECK(desc.comment && !strcmp(desc.comment, copy), "comment=%s", desc.comment);
	release(&desc, err);
}

/* A second decision (job_modify, or a comment that already holds a copy) replaces the copy;
 * a comment with no room for one is left as the user wrote it. */
static void test_comment_copy(void)
{
	job_desc_msg_t desc = job(VALID, NO_VAL64);
	char *err = NULL;
	CHECK(p_submit(&desc, 1000, &err) == SLURM_SUCCESS, "first");
	char *first = strdup(desc.comment);
	free(desc.admin_comment);
	desc.admin_comment = NULL;
	desc.pn_min_memory = NO_VAL64;
	CHECK(p_submit(&desc, 1000, &err) == SLURM_SUCCESS, "second");
	CHECK(!strcmp(desc.comment, first), "one copy, not two: %s", desc.comment);
	free(first);
	release(&desc, err);

	char longer[1030];
	memset(longer, 'x', sizeof(longer));
	memcpy(longer, VALID, strlen(VALID));
	longer[strlen(VALID)] = ';';
	longer[1000] = 0;
	desc = job(longer, NO_VAL64);
	err = NULL;
	CHECK(p_submit(&desc, 1000, &err) == SLURM_SUCCESS && desc.pn_min_memory != NO_VAL64, "long");
	CHECK(!strcmp(desc.comment, longer), "a 1000-byte comment is left alone");
	release(&desc, err);
}

/* Comments that are not ours, or absent: nothing changes, nothing is allocated. */
static void test_untouched(void)
{
	const char *comments[] = { NULL, "", "ordinary comment", "qubes: x", "QUBE: n_pix=3" };
	for (size_t i = 0; i < sizeof(comments) / sizeof(*comments); i++) {
		job_desc_msg_t desc = job(comments[i], 4000);
		char *err = NULL;
		int rc = p_submit(&desc, 1000, &err);
		CHECK(rc == SLURM_SUCCESS && desc.pn_min_memory == 4000 && !err && !desc.admin_comment,
		      "comment %zu: rc=%d", i, rc);
		release(&desc, err);
	}
	CHECK(p_submit(NULL, 0, NULL) == SLURM_SUCCESS, "NULL job_desc");
}

/* The user's memory: NO_VAL64, --mem, --mem-per-cpu, huge and overflowing per-CPU values. */
static void test_memory_encodings(void)
{
	struct { uint64_t memory; uint16_t ntasks; bool keep; } cases[] = {
		{ NO_VAL64, NO_VAL16, false },
		{ 100, NO_VAL16, false },
		{ 0, NO_VAL16, true },                          /* --mem=0: whole node, larger */
		{ 1000000, NO_VAL16, true },                    /* larger than predicted */
		{ MEM_PER_CPU | 10, 4, false },                 /* 40 MiB per node */
		{ MEM_PER_CPU | 1000000, 4, true },
		{ MEM_PER_CPU | (UINT64_C(1) << 62), 60000, true }, /* per-node overflows: saturates */
		{ INFINITE64, NO_VAL16, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		job_desc_msg_t desc = job(VALID, cases[i].memory);
		desc.ntasks_per_node = cases[i].ntasks;
		char *err = NULL;
		int rc = p_submit(&desc, 1000, &err);
		CHECK(rc == SLURM_SUCCESS, "case %zu rc=%d", i, rc);
		if (cases[i].keep)
			CHECK(desc.pn_min_memory == cases[i].memory && desc.admin_comment &&
				      strstr(desc.admin_comment, "action=kept_larger"),
			      "case %zu: mem=%lx admin=%s", i, (unsigned long)desc.pn_min_memory,
			      desc.admin_comment);
		else
			CHECK(!(desc.pn_min_memory & MEM_PER_CPU) && desc.pn_min_memory > 256 &&
				      strstr(desc.admin_comment ? desc.admin_comment : "", "action=set"),
			      "case %zu: mem=%lx", i, (unsigned long)desc.pn_min_memory);
		release(&desc, err);
	}
}

/* -n N -N M without --ntasks-per-node: the plugin caps the ranks per node at the ceil(N / M) it
 * priced, since SLURM fills a node's CPUs first; the user's own --ntasks-per-node, --ntasks alone
 * (a per-CPU request) and one node are left as they are. */
static void test_rank_cap(void)
{
	struct { uint32_t tasks, nodes; uint16_t per_node, expect; } cases[] = {
		{ 5, 2, NO_VAL16, 3 },
		{ 4, 2, NO_VAL16, 2 },
		{ 4, 2, 0, 2 },                 /* 0 is "not given" too */
		{ 5, 2, 4, 4 },                 /* the user's layout */
		{ 5, NO_VAL, NO_VAL16, NO_VAL16 }, /* per CPU: SLURM places, memory follows */
		{ 5, 1, NO_VAL16, NO_VAL16 },   /* one node: nothing to spread */
		{ 1, 2, NO_VAL16, NO_VAL16 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		job_desc_msg_t desc = job(VALID, NO_VAL64);
		desc.num_tasks = cases[i].tasks;
		desc.min_nodes = cases[i].nodes;
		desc.ntasks_per_node = cases[i].per_node;
		char *err = NULL;
		int rc = p_submit(&desc, 1000, &err);
		CHECK(rc == SLURM_SUCCESS, "case %zu rc=%d", i, rc);
		CHECK(desc.ntasks_per_node == cases[i].expect, "case %zu: ntasks_per_node=%u", i,
		      desc.ntasks_per_node);
		bool told = err && strstr(err, "qubemem: at most ");
		CHECK(told == (cases[i].per_node != cases[i].expect), "case %zu: err=%s", i, err ? err : "(null)");
		release(&desc, err);
	}
}

/* Hostile comments: refused with a one-line message, no memory change, no crash. */
static void test_hostile(void)
{
	static char big[70000], huge_token[70000], raw[64];
	memset(big, 'x', sizeof(big) - 64);
	strcpy(big + sizeof(big) - 64, " qube: n_pix=%n%n%n%s%s lmax=3");
	strcpy(huge_token, "qube: n_pix=");
	memset(huge_token + 12, '9', sizeof(huge_token) - 13);
	snprintf(raw, sizeof(raw), "qube: n_pix=3\xff\xfe\xc3 lmax=2");
	const char *comments[] = {
		"qube: color=blue", "qube: n_pix=1 n_pix=1", "qube: n_pix=-3", "qube: n_pix=0",
		"qube: path=pixel_direct n_pix=1099511627776 lmax=32 fields=QU",
		"qube: %s%n%x%n%p", "qube: n_pix=$(reboot);`id`|&>", "qube:", "qube: n_pix=3\n\x1b[2J",
		big, huge_token, raw,
	};
	for (size_t i = 0; i < sizeof(comments) / sizeof(*comments); i++) {
		job_desc_msg_t desc = job(comments[i], NO_VAL64);
		char *err = NULL;
		int rc = p_submit(&desc, 1000, &err);
		CHECK(rc == ESLURM_JOB_MISSING_SIZE_SPECIFICATION, "case %zu: rc=%d", i, rc);
		CHECK(desc.pn_min_memory == NO_VAL64 && !desc.admin_comment, "case %zu", i);
		CHECK(err && !strncmp(err, "qubemem: invalid qube comment: ", 31) && strlen(err) < 1024,
		      "case %zu: err=%s", i, err ? err : "(null)");
		for (const char *c = err; c && *c; c++)
			CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "case %zu: control byte", i);
		release(&desc, err);
	}
}

/* SLURM strings already on the job (an earlier plugin's message, an admin's note): both are
 * appended to, the old strings freed. */
static void test_existing_strings(void)
{
	job_desc_msg_t desc = job(VALID, NO_VAL64);
	desc.admin_comment = strdup("site note");
	char *err = strdup("earlier message");
	int rc = p_submit(&desc, 1000, &err);
	CHECK(rc == SLURM_SUCCESS, "rc=%d", rc);
	CHECK(desc.admin_comment && !strncmp(desc.admin_comment, "site note; qubemem:v1 action=set", 32),
	      "admin=%s", desc.admin_comment);
	CHECK(err && !strncmp(err, "earlier message\nqubemem: memory set to", 38), "err=%s", err);
	release(&desc, err);
}

/* job_modify: a pending job named by job_id_str is recomputed; others are left alone. */
static void test_modify(void)
{
	int dummy_job_record;
	job_desc_msg_t desc = job(VALID, NO_VAL64);
	desc.job_id_str = strdup("5");
	CHECK(p_modify(&desc, &dummy_job_record, 1000) == SLURM_SUCCESS, "pending");
	CHECK(desc.pn_min_memory != NO_VAL64 && desc.admin_comment, "pending job updated");
	release(&desc, NULL);

	const char *ids[] = { "6", "5_1", "5+0", "", NULL };
	for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++) {
		desc = job(VALID, NO_VAL64);
		desc.job_id_str = ids[i] ? strdup(ids[i]) : NULL;
		CHECK(p_modify(&desc, &dummy_job_record, 1000) == SLURM_SUCCESS, "id %zu", i);
		CHECK(desc.pn_min_memory == NO_VAL64 && !desc.admin_comment, "id %zu left alone", i);
		release(&desc, NULL);
	}
	desc = job(NULL, NO_VAL64);
	desc.job_id_str = strdup("5");
	CHECK(p_modify(&desc, &dummy_job_record, 1000) == SLURM_SUCCESS && desc.pn_min_memory == NO_VAL64,
	      "no new comment");
	release(&desc, NULL);
	CHECK(p_modify(NULL, NULL, 0) == SLURM_SUCCESS, "NULL");
	desc = job("qube: n_pix=-1", NO_VAL64);
	desc.job_id_str = strdup("5");
	CHECK(p_modify(&desc, &dummy_job_record, 1000) == ESLURM_JOB_MISSING_SIZE_SPECIFICATION, "bad comment refused");
	release(&desc, NULL);
}

/* qubemem.conf: reloaded when it changes, the last good one kept when it breaks. */
static void write_config(const char *dir, const char *text)
{
	char tmp[4200], path[4200];
	snprintf(tmp, sizeof(tmp), "%s/qubemem.conf.new", dir);
	snprintf(path, sizeof(path), "%s/qubemem.conf", dir);
	FILE *f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		exit(2);
	}
}

static uint64_t submit_memory(int *rc)
{
	job_desc_msg_t desc = job(VALID, NO_VAL64);
	char *err = NULL;
	*rc = p_submit(&desc, 1000, &err);
	uint64_t memory = desc.pn_min_memory;
	release(&desc, err);
	return memory;
}

static void test_config(const char *dir)
{
	int rc;
	uint64_t base = submit_memory(&rc);
	write_config(dir, "slack = 2\n");
	uint64_t doubled = submit_memory(&rc);
	CHECK(doubled > base * 3 / 2, "slack 2: %lu vs %lu", (unsigned long)doubled, (unsigned long)base);
	int errors = error_lines;
	write_config(dir, "slack = 2\nbogus = 1\n");
	CHECK(submit_memory(&rc) == doubled && error_lines == errors + 1, "broken config keeps the last good");
	CHECK(strstr(last_log, "unknown key 'bogus'") || error_lines, "log names the key");
	write_config(dir, "max_request = 1\n");
	submit_memory(&rc);
	CHECK(rc == ESLURM_INVALID_TASK_MEMORY, "max_request rejects: rc=%d", rc);
	write_config(dir, "enabled = no\n");
	CHECK(submit_memory(&rc) == NO_VAL64 && rc == SLURM_SUCCESS, "disabled");
	write_config(dir, "");
	CHECK(submit_memory(&rc) == base, "defaults again");
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Set by "bench-cold": evict the caches before each call, as slurmctld's other work does. */
static bool cold;
static volatile unsigned char *evict;
#define EVICT_BYTES (32u << 20)

/* p50 / p99 / max of one job_submit call, each timed on its own (plus restoring the job). */
static void bench(const char *name, const char *comment, uint64_t memory, long n)
{
	double *t = malloc(sizeof(double) * n);
	for (long i = -1000; i < n; i++) {
		job_desc_msg_t desc = job(comment, memory);
		char *err = NULL;
		if (cold)
			for (size_t b = 0; b < EVICT_BYTES; b += 64)
				evict[b]++;
		double t0 = now_ns();
		p_submit(&desc, 1000, &err);
		double t1 = now_ns();
		if (i >= 0)
			t[i] = t1 - t0;
		release(&desc, err);
	}
	double sum = 0;
	for (long i = 0; i < n; i++)
		sum += t[i];
	qsort(t, n, sizeof(double), compare);
	printf("%-28s n=%ld mean=%.2f us p50=%.2f us p99=%.2f us max=%.1f us\n", name, n, sum / n / 1000,
	       t[n / 2] / 1000, t[n * 99 / 100] / 1000, t[n - 1] / 1000);
	free(t);
}

/* Mode "trace": four job_submit calls with one comment, each preceded by a write to marker[0]
 * and followed by one to marker[4096], so that a memory trace (valgrind --tool=lackey) can cut
 * out each call. Prints the marker's address and the plugin's load base on stderr. */
static volatile char marker[8192] __attribute__((aligned(4096)));

static int trace(const char *comment)
{
	Dl_info info;
	if (!dladdr((void *)p_submit, &info))
		return 1;
	fprintf(stderr, "marker %p base %p\n", (void *)marker, info.dli_fbase);
	for (int i = 0; i < 4; i++) {
		job_desc_msg_t desc = job(comment, NO_VAL64);
		char *err = NULL;
		marker[0] = 1;
		p_submit(&desc, 1000, &err);
		marker[4096] = 1;
		release(&desc, err);
	}
	return 0;
}

/* The bench's comments with a qube: section, in order. `harness list` prints them (name, a tab,
 * the comment) for tests/ir-per-call.sh, so that it counts the comments the bench times. */
static const struct {
	const char *name, *comment;
	uint64_t memory;
} QUBE_CASES[] = {
	{"typical (pixel_direct)", VALID, NO_VAL64},
	{"typical (harmonic, derived)", "qube: path=harmonic fields=QU nside=32 fsky=0.1 lmax=64", NO_VAL64},
	{"worst valid (auto, all keys)",
	 "note; qube: model=1.3 path=auto fields=TQU nside=64 fsky=0.25 lmax_signal=256 lmax=128 "
	 "n_bins=64 n_params=384 working_dim=20000 keep_v=no cache=yes; more text", MEM_PER_CPU | 2000},
	{"malformed (rejected)", "qube: n_pix=3 n_pix=4 %s%n", NO_VAL64},
};

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (size_t i = 0; i < sizeof(QUBE_CASES) / sizeof(QUBE_CASES[0]); i++)
			printf("%s\t%s\n", QUBE_CASES[i].name, QUBE_CASES[i].comment);
		return 0;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: %s test|bench|bench-cold|trace PLUGIN.so CONFIG_DIR [N|COMMENT], or %s list\n",
			argv[0], argv[0]);
		return 64;
	}
	char conf[4200];
	snprintf(conf, sizeof(conf), "%s/slurm.conf", argv[3]);
	slurm_conf.slurm_conf = conf; /* qubemem.conf beside it */
	/* bench and trace keep a qubemem.conf already in CONFIG_DIR (to measure other settings). */
	char existing[4200];
	snprintf(existing, sizeof(existing), "%s/qubemem.conf", argv[3]);
	if (!strcmp(argv[1], "test") || access(existing, F_OK) != 0)
		write_config(argv[3], "");
	void *so = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
	if (!so) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	const uint32_t *version = dlsym(so, "plugin_version");
	const char *type = dlsym(so, "plugin_type");
	p_init = (int (*)(void))dlsym(so, "init");
	p_fini = (int (*)(void))dlsym(so, "fini");
	p_submit = (int (*)(job_desc_msg_t *, uint32_t, char **))dlsym(so, "job_submit");
	*(void **)&MODIFY_SYMBOL = dlsym(so, "job_modify");
	if (!version || !type || !p_init || !p_fini || !p_submit || !MODIFY_SYMBOL) {
		fprintf(stderr, "missing plugin symbol\n");
		return 1;
	}
	CHECK(*version == SLURM_VERSION_NUMBER, "plugin_version %x", *version);
	CHECK(!strcmp(type, "job_submit/qubemem"), "plugin_type %s", type);
	CHECK(dlsym(so, "qubemem_v1_job_submit") == NULL, "Swift symbols must not be exported");
	CHECK(p_init() == SLURM_SUCCESS, "init");

	if (!strcmp(argv[1], "trace")) {
		quiet = true;
		if (argc < 5 || trace(argv[4]))
			return 64;
	} else if (!strcmp(argv[1], "bench") || !strcmp(argv[1], "bench-cold")) {
		long n = argc > 4 ? atol(argv[4]) : 100000;
		cold = !strcmp(argv[1], "bench-cold");
		if (cold)
			evict = calloc(EVICT_BYTES, 1);
		quiet = true;
		static char big[65536];
		memset(big, 'x', sizeof(big) - 1);
		bench("no comment", NULL, NO_VAL64, n);
		bench("comment without qube:", "run 17 of the nightly sweep", NO_VAL64, n);
		bench("64 KiB comment, no qube:", big, NO_VAL64, n);
		for (size_t i = 0; i < sizeof(QUBE_CASES) / sizeof(QUBE_CASES[0]); i++)
			bench(QUBE_CASES[i].name, QUBE_CASES[i].comment, QUBE_CASES[i].memory, n);
	} else {
		test_valid();
		test_comment_copy();
		test_untouched();
		test_memory_encodings();
		test_rank_cap();
		test_hostile();
		test_existing_strings();
		test_modify();
		test_config(argv[3]);
		printf("harness: %d checks, %d failures\n", checks, failures);
	}
	p_fini();
	p_fini(); /* twice is safe */
	return failures ? 1 : 0;
}
