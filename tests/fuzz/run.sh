#!/usr/bin/env bash
# Run one libFuzzer target for a bounded time: run.sh BINARY SRCDIR NAME.
# Seeds come from SRCDIR/corpus/NAME (read only); what the fuzzer finds
# goes to a corpus next to the binary, kept between runs; a crash, leak,
# sanitizer report or timeout is written as crash-*/leak-*/timeout-* there
# and fails the test. RFS_FUZZ_SECONDS (default 20) is the run's length.
set -euo pipefail
bin=$1 src=$2 name=$3
secs=${RFS_FUZZ_SECONDS:-20}
out=$(dirname "$bin")/fuzz-$name
# Scratch trees (fuzz_store, fuzz_xattr) on tmpfs: several times faster than a disk.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export TMPDIR=/dev/shm
fi
mkdir -p "$out/corpus"
# Any sanitizer report stops the run (meson's defaults would let UBSan go on).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# libFuzzer's own failure status is 77, which meson would count as a skip.
args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -error_exitcode=1
      -print_final_stats=1 -artifact_prefix="$out/")
[ -f "$src/$name.dict" ] && args+=(-dict="$src/$name.dict")
exec "$bin" "${args[@]}" "$out/corpus" "$src/corpus/$name"
