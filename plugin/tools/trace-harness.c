/*
 * trace-harness: calls job_submit of a built job_submit_qubemem.so four times with one comment,
 * writing to marker[0] before each call and marker[4096] after it, so that a memory trace
 * (valgrind --tool=lackey) can cut out each call. Prints the marker's address and the .so's load
 * base on stderr. Used by tools/hot-order.py; not part of the plugin.
 *
 * Usage: trace-harness PLUGIN.so COMMENT
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <slurm/slurm.h>

/* What slurmctld provides to the plugin, reduced to what a trace needs. */
slurm_conf_t slurm_conf;
void slurm_info(const char *fmt, ...) { (void)fmt; }
void slurm_error(const char *fmt, ...) { (void)fmt; }
void slurm_verbose(const char *fmt, ...) { (void)fmt; }
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
void slurm_xfree_ptr(void *p)
{
	void **pp = p;
	if (pp && *pp) {
		free(*pp);
		*pp = NULL;
	}
}
bool test_job_array_pending(uint32_t job_id) { (void)job_id; return true; }

volatile char marker[8192] __attribute__((aligned(4096)));

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s PLUGIN.so COMMENT\n", argv[0]);
		return 2;
	}
	slurm_conf.slurm_conf = "/nonexistent/slurm.conf"; /* no qubemem.conf: the defaults */
	void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!so) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	int (*init)(void) = (int (*)(void))dlsym(so, "init");
	int (*submit)(job_desc_msg_t *, uint32_t, char **) =
		(int (*)(job_desc_msg_t *, uint32_t, char **))dlsym(so, "job_submit");
	Dl_info info;
	if (!init || !submit || !dladdr((void *)submit, &info)) {
		fprintf(stderr, "%s: no init/job_submit\n", argv[1]);
		return 1;
	}
	fprintf(stderr, "marker %p base %p\n", (void *)marker, info.dli_fbase);
	init();
	for (int i = 0; i < 4; i++) {
		job_desc_msg_t job;
		char *err = NULL;
		slurm_init_job_desc_msg(&job);
		job.comment = argv[2];
		marker[0] = 1;
		submit(&job, 1000, &err);
		marker[4096] = 1;
		free(err);
		free(job.admin_comment);
	}
	return 0;
}
