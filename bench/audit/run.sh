#!/usr/bin/env bash
# Benchmarks of `qubemem audit` (figures for BENCHMARKS.md).
#
#   bench/audit/run.sh parse      parse + aggregate generated sacct dumps (1 M and 2 M rows):
#                                 qubemem vs the same merge in plain Python (naive_merge.py);
#                                 time and peak RSS (memory must follow jobs, not rows)
#   bench/audit/run.sh sandbox SINCE
#                                 the sandbox's real finished jobs since SINCE, end to end:
#                                 qubemem audit vs reportseff (pip), both running sacct, and
#                                 qubemem audit --source db (slurmdbd's database, read directly)
#   bench/audit/run.sh scale      --suggest-config on 10 M jobs (30 M rows, 5.3 GB; JSON=1 adds
#                                 --json on 1 M jobs); BEFORE=<binary> runs another build beside
#
# Environment: QUBEMEM (default .build/release/qubemem; build it with
# `swift build -c release --product qubemem`), RUNS (repetitions, default 3; the best is kept).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
QUBEMEM=${QUBEMEM:-$REPO/.build/release/qubemem}
RUNS=${RUNS:-3}
DATA=$REPO/.cache/bench
mkdir -p "$DATA"

# best_of CMD...: the fastest of $RUNS runs: "wall_seconds maxrss_kib cpu_seconds" (cpu = user + sys;
# the machine is shared, so wall time includes waiting for a CPU and cpu time is reported too)
best_of() {
    local best="" line out
    out=$(mktemp)
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -o "$out" -f "%e %M %U %S" "$@" >/dev/null 2>&1 || true
        line=$(tail -n 1 "$out" | awk '{ printf "%s %s %.2f", $1, $2, $3 + $4 }')
        if [[ -z "$best" ]] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then best=$line; fi
    done
    rm -f "$out"
    echo "$best"
}

case "${1:-}" in
parse)
    printf '%-24s %9s %10s %9s %10s %8s %10s %9s %8s %8s\n' dump rows "qubemem s" "cpu s" "rows/s" "RSS MiB" "python s" "cpu s" "RSS MiB" speedup
    for spec in "1000000 3" "1000000 1" "2000000 7"; do
        set -- $spec
        f="$DATA/rows-$(($1 / 1000000))m-steps$2.sacct"
        [[ -f "$f" ]] || python3 "$REPO/bench/audit/gen_dump.py" "$1" "$2" "$f" >/dev/null
        q=$(best_of "$QUBEMEM" audit --input "$f" --suggest-config)
        p=$(best_of python3 "$REPO/bench/audit/naive_merge.py" "$f")
        awk -v name="$(basename "$f")" -v rows="$1" -v q="$q" -v p="$p" 'BEGIN {
            split(q, a, " "); split(p, b, " ");
            printf "%-24s %9d %10.2f %9.2f %10.0f %8.0f %10.2f %9.2f %8.0f %7.1fx\n", name, rows, a[1], a[3], rows / a[1], a[2] / 1024, b[1], b[3], b[2] / 1024, b[1] / a[1] }'
    done
    ;;
sandbox)
    since=${2:?usage: run.sh sandbox SINCE (sacct time, e.g. 2026-11-21T10:00)}
    eval "$("$REPO/scripts/sandbox.sh" env)"
    n=$(sacct -a -X -n -P --starttime="$since" --format=JobID,State | grep -cvE '\|(PENDING|RUNNING)' || true)
    echo "finished jobs since $since: $n"
    # 1. End to end against the real database: both tools run sacct themselves.
    s=$(best_of sacct -a -P -n --noconvert --starttime="$since" --format=JobID,JobName,User,Account,Partition,State,ElapsedRaw,NNodes,NTasks,AllocCPUS,ReqMem,MaxRSS,TRESUsageInTot,Comment,AdminComment)
    q=$(best_of "$QUBEMEM" audit --start "$since" --all)
    r=$(best_of reportseff --no-color --user root --since "$since")
    qd=$(best_of "$QUBEMEM" audit --source db --start "$since" --all)
    # Both sources must give the same report for the figure to compare like with like.
    same=no
    if cmp -s <("$QUBEMEM" audit --start "$since" --all --json | grep -v '"origin"') \
              <("$QUBEMEM" audit --source db --start "$since" --all --json | grep -v '"origin"'); then same=yes; fi
    # 1b. The end-to-end pair again with hyperfine (1 ms resolution; /usr/bin/time counts 10 ms).
    if command -v hyperfine >/dev/null; then
        hyperfine -N -w 2 -r "${HYPERFINE_RUNS:-15}" \
            "$QUBEMEM audit --source db --start $since --all" \
            "reportseff --no-color --user root --since $since" \
            "$QUBEMEM audit --start $since --all" 2>&1 | grep -E "Benchmark|Time|Range|faster|±" || true
    fi
    # 2. The same, with sacct's output recorded once and replayed (the tools' own cost).
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    ln -s "$REPO/bench/audit/sacct-cache" "$tmp/sacct"
    export SACCT_CACHE_DIR=$tmp SACCT_REAL=$(command -v sacct)
    SACCT_CACHE_MODE=record PATH="$tmp:$PATH" "$QUBEMEM" audit --start "$since" --all >/dev/null
    SACCT_CACHE_MODE=record PATH="$tmp:$PATH" reportseff --no-color --user root --since "$since" >/dev/null
    export SACCT_CACHE_MODE=replay
    qr=$(PATH="$tmp:$PATH" best_of "$QUBEMEM" audit --start "$since" --all)
    rr=$(PATH="$tmp:$PATH" best_of reportseff --no-color --user root --since "$since")
    # 3. The replay scaled ×SCALE (the same rows under new job ids), to see per-job costs.
    scale=${SCALE:-50}
    python3 "$REPO/bench/audit/scale_cache.py" "$tmp" "$scale" >/dev/null
    qs=$(PATH="$tmp:$PATH" best_of "$QUBEMEM" audit --start "$since" --all)
    rs=$(PATH="$tmp:$PATH" best_of reportseff --no-color --user root --since "$since")
    awk -v qd="$qd" -v same="$same" -v s="$s" -v q="$q" -v r="$r" -v qr="$qr" -v rr="$rr" -v qs="$qs" -v rs="$rs" -v k="$scale" -v n="$n" 'BEGIN {
        split(s, a, " "); split(q, b, " "); split(r, c, " "); split(qr, d, " "); split(rr, e, " ");
        split(qs, f, " "); split(rs, g, " ");
        printf "%-44s %8s %8s %8s\n", "", "wall s", "cpu s", "RSS MiB";
        printf "%-44s %8.3f %8.2f %8d\n", "sacct alone (slurmdbd query)", a[1], a[3], a[2] / 1024;
        printf "%-44s %8.3f %8.2f %8d\n", "qubemem audit --all (runs sacct)", b[1], b[3], b[2] / 1024;
        printf "%-44s %8.3f %8.2f %8d\n", "reportseff (runs sacct)", c[1], c[3], c[2] / 1024;
        printf "%-44s %7.1fx %7.1fx\n", "  reportseff / qubemem, end to end", c[1] / b[1], (b[3] > 0 ? c[3] / b[3] : 0);
        split(qd, h, " ");
        printf "%-44s %8.3f %8.2f %8d\n", "qubemem audit --all --source db", h[1], h[3], h[2] / 1024;
        printf "%-44s %7.1fx %7.1fx   (same report as via sacct: %s)\n", "  reportseff / qubemem --source db, end to end", c[1] / h[1], (h[3] > 0 ? c[3] / h[3] : 0), same;
        printf "%-44s %8.3f %8.2f %8d\n", "qubemem audit --all (sacct replayed)", d[1], d[3], d[2] / 1024;
        printf "%-44s %8.3f %8.2f %8d\n", "reportseff (sacct replayed)", e[1], e[3], e[2] / 1024;
        printf "%-44s %7.1fx %7.1fx\n", "  reportseff / qubemem, tools alone", e[1] / d[1], (d[3] > 0 ? e[3] / d[3] : 0);
        printf "%-44s %8.3f %8.2f %8d\n", sprintf("qubemem audit --all (replayed x%d: %d jobs)", k, n * k), f[1], f[3], f[2] / 1024;
        printf "%-44s %8.3f %8.2f %8d\n", sprintf("reportseff (replayed x%d)", k), g[1], g[3], g[2] / 1024;
        printf "%-44s %7.1fx %7.1fx\n", "  reportseff / qubemem, scaled", g[1] / f[1], (f[3] > 0 ? g[3] / f[3] : 0) }'
    ;;
scale)
    # A year of a large site: 30 M rows, 10 M jobs, 5.3 GB (gen_dump.py 30000000 2), audited for
    # the config line (--suggest-config) and, with JSON=1, as the full JSON report of 1 M jobs
    # (3 M rows). BEFORE=<binary> runs another build too, interleaved, for a side-by-side figure.
    f="$DATA/rows-30m-steps2.sacct"
    [[ -f "$f" ]] || python3 "$REPO/bench/audit/gen_dump.py" 30000000 2 "$f" >/dev/null
    printf '%-12s %-44s %8s %8s %9s\n' build command "wall s" "cpu s" "RSS MiB"
    report() { awk -v b="$1" -v c="$2" -v r="$3" 'BEGIN { split(r, a, " "); printf "%-12s %-44s %8.2f %8.2f %9.0f\n", b, c, a[1], a[3], a[2] / 1024 }'; }
    for bin in ${BEFORE:-} "$QUBEMEM"; do
        report "$(basename "$(dirname "$bin")")" "audit --input 30m --suggest-config" \
            "$(best_of "$bin" audit --input "$f" --suggest-config)"
    done
    if [[ -n "${JSON:-}" ]]; then
        g="$DATA/rows-3m-steps2.sacct"
        [[ -f "$g" ]] || python3 "$REPO/bench/audit/gen_dump.py" 3000000 2 "$g" >/dev/null
        for bin in ${BEFORE:-} "$QUBEMEM"; do
            report "$(basename "$(dirname "$bin")")" "audit --input 3m --json" "$(best_of "$bin" audit --input "$g" --json)"
        done
    fi
    ;;
*)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 64
    ;;
esac
