#!/usr/bin/env bash
# Fuzz every parser of outside input with libFuzzer under AddressSanitizer. Swift's own checks
# (arithmetic overflow, bounds, unwrapping) are on in these builds and trap, and a trap is a crash:
# they are the undefined-behaviour checks for Swift code (swiftc has no -sanitize=undefined on Linux).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   each target for SECONDS (default 60), all by default
#   scripts/fuzz.sh --list                  the targets
#   FUZZ_RUNS=10000000 scripts/fuzz.sh 0    each target for that many executions instead
#   FUZZ_SEED=1 FUZZ_RUNS=200000 scripts/fuzz.sh 0
#                                           the same inputs on every machine (make check does this,
#                                           so that a red check can be re-run and its crash seen)
#
# Targets (fuzz/targets/NAME.swift, compiled with the sources they exercise into one module):
#   comment       job comments and task layouts: the plugin's decision     (Sources/QubeMem)
#   config        qubemem.conf                                              (Sources/QubeMem)
#   sacct         sacct --parsable2 output, merged and audited              (QubeMemAudit)
#   record        AdminComment text and qubemem:v1 records                  (QubeMemSlurm)
#   dbrows        the MariaDB client's rows for audit --source db           (QubeMemSystem/Database)
#   slurmdbdconf  slurmdbd.conf and slurm.conf                              (QubeMemSlurm)
#   proc          /proc status, statm, smaps_rollup, stat                   (QubeMemSystem)
# and, built as a SwiftPM package of their own (fuzz/inputs: they need Yams with libyaml's C and
# CFITSIO, which one swiftc module cannot hold), a QUBE run's own inputs           (QubeMemInputs):
#   yaml          the YAML run config, through Yams and libyaml (instrumented too), then derived
#   fits          the HEALPix FITS mask, read through CFITSIO (Debian's, not instrumented)
# Corpus: fuzz/corpus/NAME/ (seeds, and every crash found, kept as a regression input), copied to
# .build/fuzz/NAME/corpus, which grows between runs. Exits non-zero on any crash; the crashing input
# is left as .build/fuzz/NAME/crash-*. Prints one line per target: executions, and whether it held.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ALL=(comment config sacct record dbrows slurmdbdconf proc yaml fits)
PACKAGE_TARGETS=" yaml fits "   # fuzz/inputs/Sources/fuzz-NAME/main.swift
if [[ ${1:-} == --list ]]; then printf '%s\n' "${ALL[@]}"; exit 0; fi
seconds=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${ALL[@]}")
for target in "${targets[@]}"; do
    [[ " ${ALL[*]} " == *" $target "* ]] || { echo "fuzz.sh: unknown target '$target' (valid: ${ALL[*]})" >&2; exit 64; }
done

# The sources each target is compiled with (one module: imports between our modules become no-ops).
sources_for() {
    local core slurm audit
    mapfile -t core < <(find Sources/QubeMem -name '*.swift' | sort)
    mapfile -t slurm < <(find Sources/QubeMemSlurm -name '*.swift' | sort)
    mapfile -t audit < <(find Sources/QubeMemAudit -name '*.swift' | sort)
    case $1 in
        comment | config) printf '%s\n' "${core[@]}" ;;
        record | slurmdbdconf) printf '%s\n' "${core[@]}" "${slurm[@]}" ;;
        sacct) printf '%s\n' "${core[@]}" "${slurm[@]}" "${audit[@]}" ;;
        dbrows) printf '%s\n' "${core[@]}" "${slurm[@]}" "${audit[@]}" Sources/QubeMemSystem/Database/Accounting{Rows,RowConversion,RowFields,SQL}.swift Sources/QubeMemSystem/Database/{StepFigures,JobRecordFigures,BoundRow}.swift ;;
        proc) printf '%s\n' Sources/QubeMem/Text/{ByteText,DecimalText}.swift Sources/QubeMemSystem/Profiling/Proc{Status,MemoryFiles,StatAndPids,FieldReaders}.swift ;;
        yaml | fits) ;;
        *) echo "fuzz.sh: unknown target '$1' (valid: ${ALL[*]})" >&2; return 64 ;;
    esac
}

# The fuzz/inputs package, built once per run (SwiftPM rebuilds what changed): every Swift module
# of its graph with -sanitize=fuzzer,address, libyaml's C with -fsanitize=fuzzer-no-link,address.
# Release (-O), as the swiftc builds above: Swift's overflow, bounds and unwrap checks stay on.
package_built=
build_package() {
    [[ -z $package_built ]] || return 0
    mkdir -p .build/fuzz
    swift build -c release --package-path fuzz/inputs --scratch-path "$PWD/.build/fuzz/inputs-build" \
        -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address \
        >.build/fuzz/inputs-build.log 2>&1 || { grep -v 'Cannot export local symbol' .build/fuzz/inputs-build.log | tail -40 >&2; exit 1; }
    package_built=$PWD/.build/fuzz/inputs-build/release
}
max_len_for() {
    case $1 in
        fits) echo 16384 ;;   # a FITS file is 2880-byte blocks: the smallest map with its headers is 8,640 bytes
        *) echo 8192 ;;
    esac
}

failed=0
summary=()
for target in "${targets[@]}"; do
    mapfile -t sources < <(sources_for "$target")
    out=.build/fuzz/$target
    corpus=corpus
    # A seeded run starts from the committed seeds alone, as it would on a fresh clone.
    if [[ -n ${FUZZ_SEED:-} ]]; then corpus=seeded-corpus; rm -rf "${out:?}/$corpus"; fi
    mkdir -p "$out/$corpus"
    if [[ -d fuzz/corpus/$target ]]; then cp -n fuzz/corpus/"$target"/* "$out/$corpus/" 2>/dev/null || true; fi
    dict=()
    [[ -f fuzz/$target.dict ]] && dict=(-dict="$PWD/fuzz/$target.dict")
    bin=$out/fuzz-$target
    if [[ $PACKAGE_TARGETS == *" $target "* ]]; then
        build_package
        cp -f "$package_built/fuzz-$target" "$bin"
    elif [[ ! -x $bin || -n $(find "${sources[@]}" "fuzz/targets/$target.swift" -newer "$bin" 2>/dev/null | head -1) ]]; then
        # One module: imports of our own modules are dropped from copies of the sources.
        rm -rf "$out/src" && mkdir -p "$out/src"
        local_sources=()
        for f in "${sources[@]}"; do
            copy=$out/src/$(echo "$f" | tr / _)
            sed -E 's/^(public |internal |@testable )?import QubeMem[A-Za-z]*$//' "$f" >"$copy"
            local_sources+=("$copy")
        done
        swiftc -sanitize=fuzzer,address -parse-as-library -module-name QubeMem -g -O \
            -suppress-warnings "${local_sources[@]}" "fuzz/targets/$target.swift" -o "$bin" >"$out/build.log" 2>&1 \
            || { cat "$out/build.log" >&2; exit 1; }
    fi
    log=$out/last-run.log
    set +e
    budget=(-max_total_time="$seconds")
    [[ -n ${FUZZ_RUNS:-} ]] && budget=(-runs="$FUZZ_RUNS")
    [[ -n ${FUZZ_SEED:-} ]] && budget+=(-seed="$FUZZ_SEED")
    # Swift's backtracer would report a trap as a crash of its own helper under ASan; without it
    # the log shows the trap's message and stack.
    (cd "$out" && SWIFT_BACKTRACE=enable=no ./"fuzz-$target" "${dict[@]}" "${budget[@]}" -max_len="$(max_len_for "$target")" \
        -print_final_stats=1 "$corpus") >"$log" 2>&1
    status=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [[ $status -ne 0 ]]; then
        failed=1
        summary+=("$target: CRASH after ${runs:-?} executions (exit $status); see $log and $out/crash-*")
        tail -30 "$log" >&2
    else
        took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
        summary+=("$target: ${runs:-?} executions in ${took:-$seconds} s, no crash")
    fi
done
printf 'fuzz: %s\n' "${summary[@]}"
exit $failed
