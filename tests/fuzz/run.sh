#!/usr/bin/env bash
# Run one libFuzzer target for a bounded time: run.sh BINARY SRCDIR NAME.
# Seeds come from SRCDIR/corpus/NAME (read only); what the fuzzer finds
# goes to a corpus next to the binary (fuzz-NAME/corpus), kept between
# runs. A crash, leak, sanitizer report, broken invariant or slow input
# (-timeout) is saved as fuzz-NAME/crash-*, leak-*, timeout-* and fails the
# test; the whole output of the last run is in fuzz-NAME/last.log.
# RFS_FUZZ_SECONDS (default 20) is the length of the run.
set -euo pipefail
bin=$1 src=$2 name=$3
secs=${RFS_FUZZ_SECONDS:-20}
out=$(cd "$(dirname "$bin")" && pwd)/fuzz-$name
mkdir -p "$out/corpus"
# Scratch trees (fuzz_store, fuzz_xattr) on tmpfs: several times faster than a disk.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export TMPDIR=/dev/shm
fi
# Any sanitizer report stops the run (meson's defaults would let UBSan go on).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# libFuzzer's own failure status is 77, which meson would count as a skip.
args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -error_exitcode=1
      -print_final_stats=1 -artifact_prefix="$out/")
[ -f "$src/$name.dict" ] && args+=(-dict="$src/$name.dict")
status=0
"$bin" "${args[@]}" "$out/corpus" "$src/corpus/$name" >"$out/last.log" 2>&1 || status=$?
if [ $status -eq 0 ]; then
	grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs|stat::)' "$out/last.log" || true
else
	tail -n 80 "$out/last.log"
	echo "fuzz_$name: exit status $status; full log: $out/last.log" >&2
fi
exit $status
