/*
 * qubemem_abi.h: the versioned C ABI between the job_submit/qubemem shim (plugin/) and its
 * Swift implementation (Sources/QubeMemCExports). This header is the only contract between the
 * two halves of job_submit_qubemem.so.
 *
 * Rules of the ABI (version 1):
 * - every struct holds fixed-width fields and plain pointers only;
 * - Swift never returns heap memory: every text it produces is written, NUL-terminated and
 *   truncated at a UTF-8 boundary, into a buffer the caller owns;
 * - no function traps or blocks on any input; an internal failure is a status, never a crash.
 *
 * A change to any struct or signature is a new version (qubemem_v2_*), not an edit of this one;
 * the one exception is a field added at the end of qubemem_v1_result, which the shim and the
 * Swift half (always linked together into the one .so) gain in the same build.
 */
#ifndef QUBEMEM_ABI_H
#define QUBEMEM_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUBEMEM_ABI_VERSION 1

/* Mirrors of slurm.h values; the shim _Static_asserts them against the installed slurm.h. */
#define QUBEMEM_NO_VAL64 ((uint64_t)0xfffffffffffffffeULL) /* "not given" for 64-bit fields */
#define QUBEMEM_NO_VAL ((uint32_t)0xfffffffeU)             /* "not given" for 32-bit fields */
#define QUBEMEM_NO_VAL16 ((uint16_t)0xfffeU)               /* "not given" for 16-bit fields */
#define QUBEMEM_MEM_PER_CPU ((uint64_t)0x8000000000000000ULL) /* pn_min_memory is per CPU */

/* Capacities the shim uses for its output buffers (bytes, including the NUL). */
#define QUBEMEM_V1_MESSAGE_CAPACITY 1024
#define QUBEMEM_V1_RECORD_CAPACITY 512
#define QUBEMEM_V1_LOG_CAPACITY 1024
#define QUBEMEM_V1_COMMENT_CAPACITY 1025 /* SLURM refuses comments over 1024 characters */

/* What the shim must do with the job after qubemem_v1_job_submit. */
enum {
    QUBEMEM_V1_PASS = 0,   /* leave the job untouched (a message may still be set) */
    QUBEMEM_V1_SET = 1,    /* store result.pn_min_memory into job_desc->pn_min_memory */
    QUBEMEM_V1_REJECT_COMMENT = 2, /* refuse the job: bad qube comment; result.message says why */
    QUBEMEM_V1_FAILED = 3, /* internal failure: pass the job through untouched, log result.log */
    QUBEMEM_V1_REJECT_MEMORY = 4,  /* refuse the job: the request is above the site's limit */
};

/* How the shim should log result.log. */
enum {
    QUBEMEM_V1_LOG_NONE = 0,
    QUBEMEM_V1_LOG_INFO = 1,
    QUBEMEM_V1_LOG_ERROR = 2,
    QUBEMEM_V1_LOG_VERBOSE = 3, /* routine decisions (memory set): slurm_verbose, seen at -v */
};

/* The fields of a job_desc_msg_t that qubemem reads, copied by the shim. */
typedef struct qubemem_v1_job {
    const char *comment;    /* job_desc->comment: NUL-terminated bytes (any encoding) or NULL */
    uint64_t pn_min_memory; /* job_desc->pn_min_memory: MiB, | QUBEMEM_MEM_PER_CPU, or NO_VAL64 */
    uint32_t min_cpus;      /* job_desc->min_cpus, or QUBEMEM_NO_VAL */
    uint32_t min_nodes;     /* job_desc->min_nodes, or QUBEMEM_NO_VAL */
    uint32_t num_tasks;     /* job_desc->num_tasks, or QUBEMEM_NO_VAL */
    uint16_t cpus_per_task; /* job_desc->cpus_per_task, or QUBEMEM_NO_VAL16 */
    uint16_t ntasks_per_node; /* job_desc->ntasks_per_node, or QUBEMEM_NO_VAL16 */
    uint32_t submit_uid;    /* the submitting user's uid, for the log */
    uint32_t is_modify;     /* 0: job_submit; 1: job_modify of a pending job */
} qubemem_v1_job;

/* Where qubemem_v1_job_submit writes its answer. The caller owns every buffer. */
typedef struct qubemem_v1_result {
    uint64_t pn_min_memory; /* out: what to store when the status is QUBEMEM_V1_SET: MiB per node,
                               or MiB per CPU | QUBEMEM_MEM_PER_CPU (a multi-rank job whose
                               nodes SLURM chooses) */
    char *message;          /* out: one line for the user's sbatch stderr, "" if none */
    uint32_t message_capacity;
    char *record;           /* out: the AdminComment record to append, "" if none */
    uint32_t record_capacity;
    char *log;              /* out: one line for slurmctld's log about this job, "" if none */
    uint32_t log_capacity;
    int32_t log_level;      /* out: QUBEMEM_V1_LOG_* for log */
    char *config_log;       /* out: one line when qubemem.conf was (re)loaded, "" if none */
    uint32_t config_log_capacity;
    int32_t config_log_level; /* out: QUBEMEM_V1_LOG_* for config_log */
    uint16_t ntasks_per_node; /* out: when the status is QUBEMEM_V1_SET and this is not
                                 QUBEMEM_NO_VAL16, store it into job_desc->ntasks_per_node: the
                                 ranks per node the memory was priced for (-n N -N M, which SLURM
                                 would otherwise place by filling a node's CPUs first) */
    char *comment;          /* out: the job's new comment, "" to leave it: the user's text, then
                               "; " and a copy of the record, which an epilog that replaces the
                               AdminComment (jobstats) does not reach (comment_record in
                               qubemem.conf(5)); never longer than 1024 bytes */
    uint32_t comment_capacity;
} qubemem_v1_result;

/*
 * qubemem_v1_configure: set the qubemem.conf path and load it. Never fails: a missing file means
 * the documented defaults; a broken one keeps the last good configuration (or passes jobs through
 * when there never was one). Writes one line describing the effective configuration into log.
 * - config_path: NUL-terminated path of qubemem.conf, or NULL for the default (QUBEMEM_CONF from
 *   the environment, else qubemem.conf beside slurm_conf_path, else /etc/slurm/qubemem.conf).
 * - slurm_conf_path: the running slurmctld's slurm.conf path, or NULL.
 * Returns QUBEMEM_V1_LOG_INFO or QUBEMEM_V1_LOG_ERROR: how to log the line.
 */
int32_t qubemem_v1_configure(const char *config_path, const char *slurm_conf_path, char *log,
                             uint32_t log_capacity);

/*
 * qubemem_v1_job_submit: decide what to do with a submitted (or modified pending) job.
 * Reloads qubemem.conf first when it changed on disk (inode, size or mtime).
 * Returns a QUBEMEM_V1_* status; result is always fully written (buffers NUL-terminated).
 */
int32_t qubemem_v1_job_submit(const qubemem_v1_job *job, qubemem_v1_result *result);

/*
 * qubemem_v1_plain_job_id: the job id named by an update's job_id_str ("123"), or QUBEMEM_NO_VAL
 * for NULL, array tasks ("123_4"), heterogeneous components ("123+0") and anything else.
 */
uint32_t qubemem_v1_plain_job_id(const char *job_id_text);

/* qubemem_v1_fini: forget the configuration. Safe to call more than once. */
void qubemem_v1_fini(void);

#ifdef __cplusplus
}
#endif

#endif /* QUBEMEM_ABI_H */
