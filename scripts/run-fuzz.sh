#!/usr/bin/env bash
# Runs every fuzz harness for SECONDS each, on its committed corpus
# (Tests/fuzz/corpus/<name>, read only) plus a work corpus under .build-fuzz
# (where libFuzzer puts what it finds), and prints executions and coverage.
# Fails on the first crash, hang (-timeout), leak or sanitizer report; the
# input is left as .build-fuzz/artifacts/<name>-crash-... for `<binary> <file>`.
#
#   scripts/run-fuzz.sh SECONDS [name...]     (names: json event definitions config h3)
#   FUZZ_MERGE=1 scripts/run-fuzz.sh ...      also fold new coverage into the
#                                             committed corpus (-merge=1)
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:?usage: run-fuzz.sh SECONDS [name...]}
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(json event definitions config h3)
B=.build-fuzz
mkdir -p "$B/artifacts" "$B/logs"
# Swift weak references look like leaks to LSan (see the file).
export LSAN_OPTIONS=suppressions=$PWD/Tests/sanitizers/lsan.supp:print_suppressions=0

binary() {
    case $1 in
    h3) echo "$B/cquic/fuzz-h3" ;;
    *) echo "$B/debug/autohome-fuzz-$1" ;;
    esac
}

printf '%-12s %10s %8s %6s %7s %7s %6s\n' harness execs exec/s cov ft corpus new
status=0
for n in "${names[@]}"; do
    bin=$(binary "$n")
    [ -x "$bin" ] || { echo "run-fuzz: $bin is not built (make fuzz-build)" >&2; exit 1; }
    seeds=Tests/fuzz/corpus/$n
    work=$B/corpus/$n
    mkdir -p "$work" "$seeds"
    log=$B/logs/$n.log
    # -rss_limit_mb: the event harness keeps MuJS VMs and ASan its quarantine.
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=8192 \
        -print_final_stats=1 -dict=Tests/fuzz/dict/$n.dict \
        -artifact_prefix="$B/artifacts/$n-" "$work" "$seeds" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    added=$(sed -n 's/^stat::new_units_added: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -n1)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$last")
    printf '%-12s %10s %8s %6s %7s %7s %6s\n' "$n" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${added:-?}"
    if [ $rc -ne 0 ]; then
        echo "run-fuzz: $n FAILED (exit $rc); last lines of $log:" >&2
        grep -E 'ERROR|SUMMARY|Fatal error|fuzz_h3:|Test unit written|==[0-9]+==' "$log" | head -n 20 >&2
        status=1
        continue
    fi
    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
        "$bin" -merge=1 -timeout=10 -rss_limit_mb=4096 -max_len=8192 "$seeds" "$work" >>"$log" 2>&1 \
            || { echo "run-fuzz: merging $n failed (see $log)" >&2; status=1; }
    fi
done
exit $status
