/*
 * job_submit/qubemem: sets a QUBE job's memory from the dimensions in its comment.
 *
 * This file only marshals: it copies job_desc fields into the ABI struct, calls the Swift side
 * (qubemem_abi.h), stores the answer back with SLURM's own allocator and logs. All parsing,
 * arithmetic and policy live in Swift. See job_submit_qubemem(8).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

#include "qubemem_abi.h"

_Static_assert(QUBEMEM_NO_VAL64 == NO_VAL64, "NO_VAL64 mirror");
_Static_assert(QUBEMEM_NO_VAL == NO_VAL, "NO_VAL mirror");
_Static_assert(QUBEMEM_NO_VAL16 == NO_VAL16, "NO_VAL16 mirror");
_Static_assert(QUBEMEM_MEM_PER_CPU == MEM_PER_CPU, "MEM_PER_CPU mirror");

/* Exported by libslurmfull and slurmctld, which are loaded before us. Never the info() macros. */
extern void slurm_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern void slurm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern void slurm_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern char *slurm_xstrdup(const char *str);
extern char *slurm_xstrdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern void slurm_xfree_ptr(void *ptr);
extern slurm_conf_t slurm_conf;
extern bool test_job_array_pending(uint32_t job_id); /* slurmctld: true when the job is pending */

const char plugin_name[] = "Set QUBE job memory from the job comment (qubemem)";
const char plugin_type[] = "job_submit/qubemem";
const uint32_t plugin_version = SLURM_VERSION_NUMBER;

static void log_line(int32_t level, const char *line)
{
	if (level == QUBEMEM_V1_LOG_ERROR)
		slurm_error("%s", line);
	else if (level == QUBEMEM_V1_LOG_INFO)
		slurm_info("%s", line);
	else if (level == QUBEMEM_V1_LOG_VERBOSE)
		slurm_verbose("%s", line);
}

int init(void)
{
	char line[QUBEMEM_V1_LOG_CAPACITY];
	/* Never fails: a broken qubemem.conf must not stop slurmctld from starting. */
	log_line(qubemem_v1_configure(NULL, slurm_conf.slurm_conf, line, sizeof(line)), line);
	return SLURM_SUCCESS;
}

int fini(void)
{
	qubemem_v1_fini();
	return SLURM_SUCCESS;
}

/* *text = "*text<sep>line" (or line), with SLURM's allocator: SLURM frees it with xfree. */
static void append(char **text, const char *sep, const char *line)
{
	char *joined = *text && (*text)[0] ? slurm_xstrdup_printf("%s%s%s", *text, sep, line)
					   : slurm_xstrdup(line);
	slurm_xfree_ptr(*text);
	*text = joined;
}

/* Calls Swift for one job and applies the answer; err_msg may be NULL (job_modify). */
static int decide(job_desc_msg_t *job_desc, uint32_t submit_uid, bool is_modify, char **err_msg)
{
	char message[QUBEMEM_V1_MESSAGE_CAPACITY], record[QUBEMEM_V1_RECORD_CAPACITY];
	char log[QUBEMEM_V1_LOG_CAPACITY], config_log[QUBEMEM_V1_LOG_CAPACITY];
	char comment[QUBEMEM_V1_COMMENT_CAPACITY];
	qubemem_v1_job job = {
		.comment = job_desc->comment,
		.pn_min_memory = job_desc->pn_min_memory,
		.min_cpus = job_desc->min_cpus,
		.min_nodes = job_desc->min_nodes,
		.num_tasks = job_desc->num_tasks,
		.cpus_per_task = job_desc->cpus_per_task,
		.ntasks_per_node = job_desc->ntasks_per_node,
		.submit_uid = submit_uid,
		.is_modify = is_modify ? 1 : 0,
	};
	qubemem_v1_result result = {
		.message = message, .message_capacity = sizeof(message),
		.record = record, .record_capacity = sizeof(record),
		.log = log, .log_capacity = sizeof(log),
		.config_log = config_log, .config_log_capacity = sizeof(config_log),
		.ntasks_per_node = QUBEMEM_NO_VAL16,
		.comment = comment, .comment_capacity = sizeof(comment),
	};
	int32_t status = qubemem_v1_job_submit(&job, &result);

	if (result.config_log_capacity && config_log[0])
		log_line(result.config_log_level, config_log);
	if (log[0])
		log_line(result.log_level, log);
	if (status == QUBEMEM_V1_FAILED || (status == QUBEMEM_V1_PASS && !record[0] && !message[0]))
		return SLURM_SUCCESS; /* untouched */

	if (err_msg && message[0]) /* after any earlier plugin's message, on its own line */
		append(err_msg, "\n", message);
	/* The job's size cannot be worked out from a qube: section that cannot be read: sbatch shows
	 * "Job size specification needs to be provided" under the message quoting the bad value
	 * (the code exists in 22.05 to 26.05; SLURM_ERROR would show "Unspecified error"). */
	if (status == QUBEMEM_V1_REJECT_COMMENT)
		return ESLURM_JOB_MISSING_SIZE_SPECIFICATION;
	if (status == QUBEMEM_V1_REJECT_MEMORY)
		return ESLURM_INVALID_TASK_MEMORY;
	if (status == QUBEMEM_V1_SET) {
		job_desc->pn_min_memory = result.pn_min_memory;
		if (result.ntasks_per_node != QUBEMEM_NO_VAL16 && result.ntasks_per_node)
			job_desc->ntasks_per_node = result.ntasks_per_node;
	}
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(26, 5, 0)
	/* --mem-update lowers the limit to the usage seen after a delay, below a QUBE run's late
	 * peak: off when qubemem sets the memory (0: not asked for). See job_submit_qubemem(8). */
	if (status == QUBEMEM_V1_SET && job_desc->mem_update_delay && job_desc->mem_update_delay != NO_VAL16) {
		job_desc->mem_update_delay = job_desc->mem_update_margin = 0;
		if (err_msg)
			append(err_msg, "\n", "qubemem: --mem-update switched off: a QUBE run peaks late, "
			       "a limit lowered earlier would kill it");
	}
#endif
	if (record[0])
		append(&job_desc->admin_comment, "; ", record);
	if (comment[0]) {
		slurm_xfree_ptr(job_desc->comment);
		job_desc->comment = slurm_xstrdup(comment);
	}
	return SLURM_SUCCESS;
}

int job_submit(job_desc_msg_t *job_desc, uint32_t submit_uid, char **err_msg)
{
	if (!job_desc)
		return SLURM_SUCCESS;
	return decide(job_desc, submit_uid, false, err_msg);
}

/* A new comment on a pending job recomputes its memory; running jobs and other updates are left
 * alone. The err_msg argument exists from SLURM 23.02 on. */
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 2, 0)
int job_modify(job_desc_msg_t *job_desc, void *job_ptr, uint32_t submit_uid, char **err_msg)
#else
int job_modify(job_desc_msg_t *job_desc, void *job_ptr, uint32_t submit_uid)
#endif
{
#if SLURM_VERSION_NUMBER < SLURM_VERSION_NUM(23, 2, 0)
	char **err_msg = NULL;
#endif
	if (!job_desc || !job_ptr || !job_desc->comment)
		return SLURM_SUCCESS;
	/* An update names its job in job_id_str; job_id is NO_VAL (in step_id from 25.11 on). */
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 11, 0)
	uint32_t job_id = job_desc->step_id.job_id;
#else
	uint32_t job_id = job_desc->job_id;
#endif
	if (job_id == NO_VAL || job_id == 0)
		job_id = qubemem_v1_plain_job_id(job_desc->job_id_str);
	if (job_id == QUBEMEM_NO_VAL || !test_job_array_pending(job_id)) {
		slurm_info("qubemem: job_modify: job=%s not a pending plain job: memory left alone",
			   job_desc->job_id_str ? job_desc->job_id_str : "?");
		return SLURM_SUCCESS;
	}
	return decide(job_desc, submit_uid, true, err_msg);
}
