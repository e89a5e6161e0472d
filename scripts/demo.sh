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
# Usage: scripts/demo.sh [--keep]
#   --keep   leave the sandbox running at the end (it is also left running when it was already
#            running before the demo: someone else may be using it)
# Environment: QUBEMEM (a built qubemem binary; default: build one), DEMO_TIMEOUT (seconds to wait
# for final accounting rows, default 240).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
KEEP=0
for arg in "$@"; do
    case "$arg" in
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo.sh: unknown argument '$arg' (try --help)" >&2; exit 64 ;;
    esac
done
TIMEOUT=${DEMO_TIMEOUT:-240}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Building qubemem and the plugin"
if [[ -z "${QUBEMEM:-}" ]]; then
    swift build --product qubemem 2>&1 | tail -n 2
    QUBEMEM="$(swift build --show-bin-path)/qubemem"
fi
make -s -C plugin >/dev/null
export QUBEMEM

WAS_RUNNING=0
if scripts/sandbox.sh status >/dev/null 2>&1; then WAS_RUNNING=1; fi
say "Starting the SLURM sandbox with JobSubmitPlugins=qubemem"
QUBEMEM_PLUGIN_DIR="$REPO/plugin/build" scripts/sandbox.sh start
eval "$(scripts/sandbox.sh env)"
stop_sandbox() {
    if [[ $KEEP -eq 0 && $WAS_RUNNING -eq 0 ]]; then
        say "Stopping the sandbox (scripts/demo.sh --keep leaves it running)"
        scripts/sandbox.sh stop
    fi
}
trap stop_sandbox EXIT

export QUBEMEM_EXAMPLES="$REPO/examples/jobs"
OUT="$REPO/.sandbox/demo"
mkdir -p "$OUT"
START=$(date +%Y-%m-%dT%H:%M:%S)
JOBS=()
SUBMITTED=()

say "Submitting the example jobs"
for script in examples/jobs/*.sbatch; do
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
        exit 1
    fi
    progress="  $jobsn job rows, $batch batch steps, $live rows still live"
    [[ "$progress" != "${last_progress:-}" ]] && echo "$progress"
    last_progress=$progress
    sleep 2
done

say "qubemem audit --start $START --jobs $ids --all"
set +e
"$QUBEMEM" audit --start "$START" --jobs "$ids" --all --svg "$OUT/audit.svg"
status=$?
set -e
echo
echo "SVG chart: $OUT/audit.svg   (JSON: qubemem audit --start $START --jobs $ids --json)"
exit $status
