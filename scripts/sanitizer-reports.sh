#!/usr/bin/env bash
# Fails (and prints them) if a sanitizer wrote any report into DIR: the
# sanitizers of `make sanitize` write to files (log_path), so a report from a
# daemon's exit or a worker thread cannot hide in a passing test's output.
#   scripts/sanitizer-reports.sh DIR WHAT
set -euo pipefail
dir=$1 what=$2
shopt -s nullglob
reports=("$dir"/*)
if [ ${#reports[@]} -eq 0 ]; then
    echo "sanitize: $what: no sanitizer reports"
    exit 0
fi
for r in "${reports[@]}"; do
    echo "==== $r"
    head -n 60 "$r"
done
echo "sanitize: $what: ${#reports[@]} sanitizer report(s) in $dir" >&2
exit 1
