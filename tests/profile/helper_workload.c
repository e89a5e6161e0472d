/* The profiler's test workload: allocates and touches known amounts in marked stages, forks a
 * child that allocates its own, and makes a short spike, so that the true tree peak is known.
 *
 *   helper_workload [a=MiB] [b=MiB] [child=MiB] [spike=MiB] [spike_ms=MS] [hold_ms=MS]
 *                   [exit=CODE] [signal=SIG] [mark=0|1]
 *
 * Stages (written to QUBEMEM_STAGE_FD when set, one "enter NAME" / "exit NAME" line each):
 *   alloc_a      touch a MiB (kept)
 *   alloc_b      touch b MiB more (kept)
 *   with_child   the child (forked at the start, before anything is touched, so that the
 *                two share no data pages) touches `child` MiB and holds it; inside it:
 *     spike      touch `spike` MiB for spike_ms, then unmap it
 *   the child is told to exit and reaped by us, then we hold hold_ms and exit/raise.
 * True tree peak above the two processes' baselines = a + b + child + spike (MiB).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int stage_fd = -1;
static int ack_fd = -1;

static void mark(const char *verb, const char *name) {
    if (stage_fd < 0) return;
    char line[256];
    int n = snprintf(line, sizeof line, "%s %s\n", verb, name);
    if (write(stage_fd, line, (size_t)n) != n) return; /* the profiler went away: carry on */
    char ack;
    if (ack_fd >= 0 && read(ack_fd, &ack, 1) != 1) ack_fd = -1; /* wait until it is recorded */
}

static void sleep_ms(long ms) {
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {}
}

/* Maps and touches every page of `mib` MiB; returns the mapping. */
static char *touch(long mib) {
    if (mib <= 0) return NULL;
    size_t len = (size_t)mib << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(99); }
    long page = sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < len; i += (size_t)page) p[i] = (char)(i | 1);
    return p;
}

int main(int argc, char **argv) {
    long a = 100, b = 100, child = 150, spike = 64, spike_ms = 30, hold_ms = 100, code = 0, sig = 0, use_marks = 1;
    for (int i = 1; i < argc; i++) {
        char key[32]; long v;
        if (sscanf(argv[i], "%31[^=]=%ld", key, &v) != 2) { fprintf(stderr, "bad argument %s\n", argv[i]); return 64; }
        if (!strcmp(key, "a")) a = v; else if (!strcmp(key, "b")) b = v;
        else if (!strcmp(key, "child")) child = v; else if (!strcmp(key, "spike")) spike = v;
        else if (!strcmp(key, "spike_ms")) spike_ms = v; else if (!strcmp(key, "hold_ms")) hold_ms = v;
        else if (!strcmp(key, "exit")) code = v; else if (!strcmp(key, "signal")) sig = v;
        else if (!strcmp(key, "mark")) use_marks = v;
        else { fprintf(stderr, "unknown key %s\n", key); return 64; }
    }
    const char *fd = getenv("QUBEMEM_STAGE_FD");
    if (fd && use_marks) stage_fd = atoi(fd);
    const char *ack = getenv("QUBEMEM_STAGE_ACK_FD");
    if (ack && use_marks) ack_fd = atoi(ack);

    /* Fork first: pages touched after the fork belong to one process only, so the sum of the
     * two RSS is the memory really used. */
    int go[2], ready[2], done[2];
    if (pipe(go) || pipe(ready) || pipe(done)) { perror("pipe"); return 99; }
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 99; }
    if (pid == 0) {
        /* The child: wait for go, its own allocation, then wait until the parent says done. */
        close(go[1]); close(ready[0]); close(done[1]);
        char c;
        if (read(go[0], &c, 1) != 1) _exit(98);
        touch(child);
        if (write(ready[1], &c, 1) != 1) _exit(98);
        if (read(done[0], &c, 1) < 0) _exit(98);
        _exit(0);
    }
    close(go[0]); close(ready[1]); close(done[0]);

    mark("enter", "alloc_a"); touch(a); sleep_ms(150); mark("exit", "alloc_a");
    mark("enter", "alloc_b"); touch(b); sleep_ms(150); mark("exit", "alloc_b");

    mark("enter", "with_child");
    char c = 'g';
    if (write(go[1], &c, 1) != 1) return 99;
    if (read(ready[0], &c, 1) != 1) { fprintf(stderr, "child failed\n"); return 99; }
    sleep_ms(200);
    mark("enter", "spike");
    char *s = touch(spike);
    sleep_ms(spike_ms);
    if (s) munmap(s, (size_t)spike << 20);
    mark("exit", "spike");
    sleep_ms(200);
    if (write(done[1], "d", 1) != 1) return 99;
    int st;
    waitpid(pid, &st, 0);
    mark("exit", "with_child");
    sleep_ms(hold_ms);
    if (sig) { signal((int)sig, SIG_DFL); raise((int)sig); }
    return (int)code;
}
