#!/usr/bin/env bash
# What the fuzz corpus reaches: replays each harness's committed corpus
# (plus .build-fuzz/corpus/<name>, what `make fuzz` found since) once with
# libFuzzer's -print_coverage=1 and sums, per source file the harness is
# about, the functions reached and the instrumented edges covered.  Edges
# include the branches ASan/UBSan add for their error paths, so 100% is not
# reachable; compare runs, not against 100.
#   scripts/fuzz-coverage.sh [name...]
set -uo pipefail
cd "$(dirname "$0")/.."
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(json event definitions config h3)
B=.build-fuzz
export LSAN_OPTIONS=suppressions=$PWD/Tests/sanitizers/lsan.supp:print_suppressions=0

files_of() {
    case $1 in
    json) echo "AutoHomeSupport/JSONParser.swift AutoHomeSupport/JSONWriter.swift" ;;
    event) echo "AutoHome/Pipeline/EventManager.swift AutoHome/Model/Coercion.swift AutoHome/Pipeline/EventCodec.swift AutoHome/Pipeline/Run.swift AutoHome/Pipeline/EventRing.swift" ;;
    definitions) echo "AutoHome/Model/DeviceDefinition.swift AutoHome/Model/PropertyDefinition.swift AutoHome/Model/GroupDefinition.swift AutoHome/Model/GroupGraph.swift AutoHome/Model/FieldReader.swift" ;;
    config) echo "AutoHome/Config/ConfigDecoder.swift AutoHome/Model/DeviceDefinition.swift AutoHome/Model/GroupDefinition.swift" ;;
    h3) echo "CQuic/server_h3.c CQuic/server_response.c CQuic/server_api.c CQuic/budget.c CQuic/quic_cb.c" ;;
    esac
}

printf '%-12s %-46s %10s %12s\n' harness file functions edges
for n in "${names[@]}"; do
    if [ "$n" = h3 ]; then bin=$B/cquic/fuzz-h3; else bin=$B/debug/autohome-fuzz-$n; fi
    [ -x "$bin" ] || { echo "fuzz-coverage: $bin is not built (make fuzz-build)" >&2; exit 1; }
    dirs=(Tests/fuzz/corpus/$n)
    [ -d "$B/corpus/$n" ] && dirs+=("$B/corpus/$n")
    out=$("$bin" -runs=0 -max_len=8192 -rss_limit_mb=4096 -print_coverage=1 "${dirs[@]}" 2>&1 | grep -E '^(UN)?COVERED_FUNC')
    for f in $(files_of "$n"); do
        awk -v f="Sources/$f" -v h="$n" '
            index($NF, f ":") {
                split($5, e, "/"); total += e[2]; covered += e[1]; fn++
                if ($1 == "COVERED_FUNC:") fc++
            }
            END { printf "%-12s %-46s %4d/%-5d %5d/%-6d\n", h, f, fc, fn, covered, total }' <<<"$out"
    done
done
