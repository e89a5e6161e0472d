#!/usr/bin/env bash
# make demo: qubemem's whole loop on a one-node SLURM sandbox.
#
#   1. build qubemem and the job_submit plugin, start the sandbox with the plugin enabled;
#   2. submit the example QUBE-shaped jobs in examples/jobs/, each with the comment
#      `qubemem predict --comment` writes for its dimensions (the #QUBE line of the script);
#   3. show what the plugin did (sbatch's message, and MinMemoryNode / AdminComment from scontrol);
#   4. wait until sacct has final rows for every job (job row and steps);
#   5. print `qubemem audit` for those jobs (and write an SVG chart beside it).
#
# Usage: scripts/demo.sh [--keep] [--nodes N]
#   --keep     leave the sandbox(es) running at the end (a sandbox is also left running when it was
#              already running before the demo: someone else may be using it)
#   --nodes N  then the same loop on an N-node sandbox (scripts/sandbox.sh start --nodes N, N >= 2;
#              `make demo DEMO_NODES=3`) with the MPI jobs of examples/multinode/: a real QUBE
#              Fisher across two nodes, and an uneven layout (-n 5 -N 2). One to two minutes more.
# Environment: QUBEMEM (a built qubemem binary; default: build one), DEMO_TIMEOUT (seconds to wait
# for final accounting rows, default 240).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
KEEP=0
NODES=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --keep) KEEP=1 ;;
        --nodes) NODES=${2:-}; shift ;;
        --nodes=*) NODES=${1#--nodes=} ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
        *) echo "demo.sh: unknown argument '$1' (try --help)" >&2; exit 64 ;;
    esac
    shift
done
[[ $NODES =~ ^[1-9][0-9]*$ ]] || { echo "demo.sh: --nodes needs a number (got '$NODES')" >&2; exit 64; }
TIMEOUT=${DEMO_TIMEOUT:-240}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Building qubemem and the plugin"
if [[ -z "${QUBEMEM:-}" ]]; then
    swift build --product qubemem 2>&1 | tail -n 2
    QUBEMEM="$(swift build --show-bin-path)/qubemem"
fi
make -s -C plugin >/dev/null
export QUBEMEM

# Sandboxes this demo started, stopped at the end (unless --keep): their --nodes figures.
STARTED=()
# shellcheck disable=SC2317  # run by the EXIT trap
stop_sandboxes() {
    local n
    [[ $KEEP -eq 0 ]] || return 0
    for n in "${STARTED[@]}"; do
        say "Stopping the sandbox (scripts/demo.sh --keep leaves it running)"
        scripts/sandbox.sh stop --nodes "$n"
    done
}
trap stop_sandboxes EXIT

# run_part NODES JOBS_DIR: the loop on the sandbox of NODES nodes with the jobs in JOBS_DIR;
# sets STATUS to the audit's exit status.
run_part() {
    local nodes=$1 jobs_dir=$2
    if ! scripts/sandbox.sh status --nodes "$nodes" >/dev/null 2>&1; then STARTED+=("$nodes"); fi
    if ((nodes > 1)); then
        say "Starting a $nodes-node SLURM sandbox (a network namespace per node) with JobSubmitPlugins=qubemem"
    else
        say "Starting the SLURM sandbox with JobSubmitPlugins=qubemem"
    fi
    QUBEMEM_PLUGIN_DIR="$REPO/plugin/build" scripts/sandbox.sh start --nodes "$nodes"
    eval "$(scripts/sandbox.sh env --nodes "$nodes")"

    export QUBEMEM_EXAMPLES="$REPO/$jobs_dir"
    local sb_dir=.sandbox
    ((nodes > 1)) && sb_dir=.sandbox-nodes
    OUT="$REPO/$sb_dir/demo"
    mkdir -p "$OUT"
    START=$(date +%Y-%m-%dT%H:%M:%S)
    JOBS=()
    SUBMITTED=()
    local script name flags args comment jobid job
    say "Submitting the example jobs"
    for script in "$jobs_dir"/*.sbatch; do
        name=$(basename "$script" .sbatch)
        flags=$(sed -n 's/^#QUBE //p' "$script")
        args=(--parsable --output="$OUT/$name-%j.out")
        comment=""
        if [[ -n "$flags" ]]; then
            # shellcheck disable=SC2086  # the #QUBE line is a list of flags
            comment=$("$QUBEMEM" predict $flags --comment)
            args+=(--comment="$comment")
        fi
        printf '\n%s\n' "$script"
        [[ -n "$comment" ]] && printf '  comment: %s\n' "$comment"
        # The plugin's message to the user comes back on sbatch's stderr.
        jobid=$(QUBE_COMMENT="$comment" sbatch "${args[@]}" "$script" 2>"$OUT/$name.sbatch-stderr")
        jobid=${jobid%%;*}
        sed 's/^/  sbatch: /' "$OUT/$name.sbatch-stderr"
        JOBS+=("$jobid")
        SUBMITTED+=("$name.sbatch $jobid")
        job=$(scontrol show job "$jobid")
        { grep -oE 'MinMemoryNode=[^ ]+' <<<"$job" | head -n 1
          grep -E '^ *AdminComment=' <<<"$job" | head -n 1 | sed 's/^ *//'; } | sed "s/^/  scontrol $jobid: /" || true
    done

    say "Waiting for final accounting rows (sacct) of jobs ${JOBS[*]}"
    local ids deadline rows live jobsn batch progress
    ids=$(IFS=,; echo "${JOBS[*]}")
    # Scripts and job ids, for tests that check each example did what it says (tests/audit).
    printf '%s\n' "${SUBMITTED[@]}" > "$OUT/jobs.txt"
    echo "$START" > "$OUT/start.txt"
    deadline=$((SECONDS + TIMEOUT))
    while :; do
        # Final = no live state on any row, every job row has a batch step, and no placeholder row.
        rows=$(sacct -P -n --noconvert -j "$ids" --format=JobID,JobName,State 2>/dev/null || true)
        live=$(awk -F'|' '$3 ~ /^(PENDING|RUNNING|REQUEUED|RESIZING|SUSPENDED|COMPLETING|CONFIGURING)/ || $2 == "allocation"' <<<"$rows" | wc -l)
        jobsn=$(awk -F'|' '$1 !~ /\./' <<<"$rows" | wc -l)
        batch=$(awk -F'|' '$1 ~ /\.batch$/' <<<"$rows" | wc -l)
        if [[ $live -eq 0 && $jobsn -gt 0 && $batch -ge $jobsn ]]; then break; fi
        if (( SECONDS > deadline )); then
            echo "demo.sh: sacct rows not final after ${TIMEOUT}s:" >&2
            echo "$rows" >&2
            return 1
        fi
        progress="  $jobsn job rows, $batch batch steps, $live rows still live"
        [[ "$progress" != "${last_progress:-}" ]] && echo "$progress"
        last_progress=$progress
        sleep 2
    done

    say "qubemem audit --start $START --jobs $ids --all"
    set +e
    "$QUBEMEM" audit --start "$START" --jobs "$ids" --all --svg "$OUT/audit.svg"
    STATUS=$?
    set -e
    echo
    echo "SVG chart: $OUT/audit.svg   (JSON: qubemem audit --start $START --jobs $ids --json)"
}

run_part 1 examples/jobs
status=$STATUS
if ((NODES > 1)); then
    run_part "$NODES" examples/multinode
    ((status != 0)) || status=$STATUS
fi
exit "$status"
