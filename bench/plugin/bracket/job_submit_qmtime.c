/*
 * job_submit/qmtime_begin and job_submit/qmtime_end: a timer around the job_submit plugins that
 * slurmctld calls between them (JobSubmitPlugins=qmtime_begin,PLUGIN,qmtime_end).
 *
 * Benchmark instrumentation only, never for production. slurmctld calls its job_submit plugins in
 * the configured order, one after the other, under its locks; begin reads CLOCK_MONOTONIC (vDSO:
 * no system call, no trap) and end reads it again and stores the difference in a shared file
 * (QMTIME_FILE, mmapped), so the bench reads every call's time without slurmctld logging anything.
 * With no plugin between the two, the figure is the bracket's own cost.
 *
 * Built twice from this file: -DQMTIME_END=0 (begin) and -DQMTIME_END=1 (end).
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

#define QMTIME_FILE "/dev/shm/qmtime"
#define QMTIME_SLOTS 65536

/* The shared file: begin's timestamp, a count of calls timed, and one duration (ns) per call. */
struct qmtime_shared {
	uint64_t begin_ns;
	uint64_t count;
	uint32_t ns[QMTIME_SLOTS];
};

#if QMTIME_END
const char plugin_name[] = "qubemem benchmark: timer after the job_submit plugins";
const char plugin_type[] = "job_submit/qmtime_end";
#else
const char plugin_name[] = "qubemem benchmark: timer before the job_submit plugins";
const char plugin_type[] = "job_submit/qmtime_begin";
#endif
const uint32_t plugin_version = SLURM_VERSION_NUMBER;

static struct qmtime_shared *shared;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int init(void)
{
	int fd = open(QMTIME_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return SLURM_SUCCESS; /* no timing, never a failure */
	if (ftruncate(fd, sizeof(struct qmtime_shared)) == 0) {
		void *p = mmap(NULL, sizeof(struct qmtime_shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED)
			shared = p;
	}
	close(fd);
	return SLURM_SUCCESS;
}

int fini(void)
{
	if (shared)
		munmap(shared, sizeof(struct qmtime_shared));
	shared = NULL;
	return SLURM_SUCCESS;
}

int job_submit(job_desc_msg_t *job_desc, uint32_t submit_uid, char **err_msg)
{
	(void)job_desc, (void)submit_uid, (void)err_msg;
	if (!shared)
		return SLURM_SUCCESS;
#if QMTIME_END
	uint64_t t = now_ns();
	uint64_t d = t - shared->begin_ns;
	shared->ns[shared->count % QMTIME_SLOTS] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
	shared->count++;
#else
	shared->begin_ns = now_ns();
#endif
	return SLURM_SUCCESS;
}

int job_modify(job_desc_msg_t *job_desc, void *job_ptr, uint32_t submit_uid)
{
	(void)job_desc, (void)job_ptr, (void)submit_uid;
	return SLURM_SUCCESS;
}
