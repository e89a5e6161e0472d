/* A workload whose pages are shared after a fork, as MPI ranks forked by one launcher share
 * what the launcher held: the RSS sum and the cgroup charge then differ by a known amount.
 *
 *   fork_workload [n=MiB] [k=CHILDREN] [m=MiB] [hold_ms=MS] [rank_env=0|1]
 *
 * The parent maps and touches n MiB (anonymous, private), then forks k children. Each child
 * reads one byte of every page of the parent's n MiB (no write: the pages stay shared, no
 * copy-on-write) and touches m MiB of its own; when all are ready, everything is held hold_ms
 * together, then the children exit and the parent reaps them. With rank_env=1 each child puts
 * PMI_RANK=i (i = 0..k-1) in its environment and re-execs itself as a rank would be exec'd,
 * so that /proc/PID/environ names its rank.
 *
 * Expected, above the processes' own few MiB of program and libc:
 *   Σ RSS over the processes   ≈ (k+1)·n + k·m MiB   (each shared page once per process)
 *   cgroup charge              ≈ n + k·m MiB         (each page once)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {}
}

/* Maps and writes every page of `mib` MiB. */
static char *touch(long mib) {
    if (mib <= 0) return NULL;
    size_t len = (size_t)mib << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(99); }
    /* No transparent huge pages: 4 KiB pages make RSS and the charge move page by page. */
    madvise(p, len, MADV_NOHUGEPAGE);
    long page = sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < len; i += (size_t)page) p[i] = (char)(i | 1);
    return p;
}

/* A child's work: read the shared pages, touch its own, say ready, wait for done. */
static int child_body(const char *shared, long n, long m, int ready_fd, int done_fd) {
    long page = sysconf(_SC_PAGESIZE);
    volatile char sink = 0;
    for (size_t i = 0; shared && i < ((size_t)n << 20); i += (size_t)page) sink ^= shared[i];
    (void)sink;
    touch(m);
    char c = 'r';
    if (write(ready_fd, &c, 1) != 1) return 98;
    if (read(done_fd, &c, 1) < 0) return 98;
    return 0;
}

int main(int argc, char **argv) {
    long n = 256, k = 3, m = 64, hold_ms = 400, rank_env = 0;
    /* Re-exec'd rank: "fork_workload --rank I M READY_FD DONE_FD" (the shared pages are gone
     * after an exec, so a rank holds only its own m MiB; used for identification tests). */
    if (argc == 6 && !strcmp(argv[1], "--rank")) {
        return child_body(NULL, 0, atol(argv[3]), atoi(argv[4]), atoi(argv[5]));
    }
    for (int i = 1; i < argc; i++) {
        char key[32]; long v;
        if (sscanf(argv[i], "%31[^=]=%ld", key, &v) != 2) { fprintf(stderr, "bad argument '%s'\n", argv[i]); return 64; }
        if (!strcmp(key, "n")) n = v; else if (!strcmp(key, "k")) k = v; else if (!strcmp(key, "m")) m = v;
        else if (!strcmp(key, "hold_ms")) hold_ms = v; else if (!strcmp(key, "rank_env")) rank_env = v;
        else { fprintf(stderr, "unknown key '%s'\n", key); return 64; }
    }
    char *shared = touch(n);
    int ready[2], done[2];
    if (pipe(ready) || pipe(done)) { perror("pipe"); return 99; }
    pid_t *pids = calloc((size_t)(k > 0 ? k : 1), sizeof *pids);
    for (long i = 0; i < k; i++) {
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 99; }
        if (pid == 0) {
            close(ready[0]); close(done[1]);
            if (rank_env) {
                char rank[24], mib[24], rfd[24], dfd[24];
                snprintf(rank, sizeof rank, "%ld", i);
                snprintf(mib, sizeof mib, "%ld", m);
                snprintf(rfd, sizeof rfd, "%d", ready[1]);
                snprintf(dfd, sizeof dfd, "%d", done[0]);
                setenv("PMI_RANK", rank, 1);
                execl("/proc/self/exe", "fork_workload", "--rank", rank, mib, rfd, dfd, (char *)NULL);
                perror("execl");
                _exit(97);
            }
            _exit(child_body(shared, n, m, ready[1], done[0]));
        }
        pids[i] = pid;
    }
    close(ready[1]); close(done[0]);
    for (long i = 0; i < k; i++) {
        char c;
        if (read(ready[0], &c, 1) != 1) { fprintf(stderr, "a child failed\n"); return 99; }
    }
    sleep_ms(hold_ms);
    close(done[1]); /* EOF on done: every child returns */
    int status = 0;
    for (long i = 0; i < k; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) status = 99;
    }
    return status;
}
