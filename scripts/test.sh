#!/usr/bin/env bash
# The project's test command. On a fresh machine it installs what is missing,
# starts real PostgreSQL and FerretDB (MongoDB wire protocol) on loopback,
# and runs the whole suite against them. With CI=true a missing server fails
# the real-server tests instead of skipping them. Extra arguments go to every
# test binary (`scripts/test.sh --skip eight_writers`).
#
# It ends with a table of its stages and their wall time, the total, the
# disk's raw append rate (from the benchmark smoke run: how fast this
# machine's fsync was today) and what the run wrote to the target dir.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"

target_dir="${CARGO_TARGET_DIR:-target}"
run_started=$(date +%s.%N)
stages=()
raw_rate="not measured"
disk_before_kb=0

now() { date +%s.%N; }
# record NAME START STATUS: one row of the table.
record() { stages+=("$(awk -v a="$(now)" -v b="$2" -v n="$1" -v s="$3" 'BEGIN { printf "%-28s %8.1f s  %s", n, a - b, s }')"); }

print_table() {
    local status=$?
    local total written_kb
    total=$(awk -v a="$(now)" -v b="$run_started" 'BEGIN { print a - b }')
    written_kb=$(( $(du -sk "$target_dir" 2>/dev/null | cut -f1) - disk_before_kb ))
    {
        echo
        echo "== stages"
        printf '%s\n' "${stages[@]}"
        printf '%-28s %8.1f s  %s\n' "total" "$total" "$([ "$status" = 0 ] && echo ok || echo "FAILED (exit $status)")"
        echo "raw append rate (bench smoke, ingest_raw_1): $raw_rate"
        echo "written to $target_dir: $(( written_kb / 1024 )) MB"
    } >&2
}
trap print_table EXIT

# stage NAME COMMAND...: runs one stage, timed; a failure ends the run.
stage() {
    local name="$1" started
    shift
    started=$(now)
    echo "== $name" >&2
    if "$@"; then
        record "$name" "$started" ok
    else
        local rc=$?
        record "$name" "$started" "FAILED (exit $rc)"
        return "$rc"
    fi
}

install() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "scripts/test.sh: cargo is missing; install Rust with rustup first" >&2
        return 1
    fi
    local component
    for component in rustfmt clippy; do
        if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
            rustup component add "$component" >&2 || return
        fi
    done
    cargo fetch --locked --quiet
}

# A clean clone gains nothing from incremental artifacts; they only take disk.
if [ "${CI:-}" = "true" ]; then
    export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi
# A full disk fails the build minutes in with a compiler error; say it first.
mkdir -p "$target_dir"
disk_before_kb=$(du -sk "$target_dir" | cut -f1)
free_gb=$(df -P -BG "$target_dir" | awk 'NR == 2 { sub("G", "", $4); print $4 }')
echo "== disk: ${free_gb} GB free for $target_dir (a clean test run writes about 2 GB)" >&2
if [ "${free_gb:-0}" -lt 8 ]; then
    echo "scripts/test.sh: warning: under 8 GB free where cargo builds; the build may fail with 'No space left on device'" >&2
fi

stage install install

# Real servers (installs PostgreSQL from Debian and builds our FerretDB launcher if needed).
started=$(now)
echo "== services" >&2
# (the status of `eval "$(...)"` is eval's, not the start's: check it apart)
if ! service_exports=$(scripts/services.sh start); then
    record services "$started" "FAILED"
    echo "scripts/test.sh: the servers did not start (scripts/services.sh says why above)" >&2
    exit 1
fi
eval "$service_exports"
export LEDGERSCOPE_MONGO_URI LEDGERSCOPE_POSTGRES_URL
record services "$started" ok

stage fmt cargo fmt --all -- --check
# `--tests`: the library's tests and tests/*, with the binaries built plain
# for tests/cli; they are `test = false` (no unit tests), so no empty test
# harnesses are built, which `--all-targets` would build (there are no
# benches or examples). Clippy lints inside this build: clippy-driver is the
# rustc of our own crates (what `cargo clippy` sets up, with `-D warnings`),
# so a lint fails the build and no second pass checks every dependency
# again (`cargo check` cannot reuse a build: cargo issue 3501). The variables
# stay set for the test stages, which then build nothing again.
if clippy_driver=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver); then
    export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
    export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
    stage "build + clippy" cargo test --locked --tests --no-run
else
    echo "scripts/test.sh: clippy-driver not found; building, then linting with cargo clippy" >&2
    stage build cargo test --locked --tests --no-run
    stage clippy cargo clippy --all-targets --locked -- -D warnings
fi

bench_smoke() {
    local out
    # The binary the build stage made for the tests: `cargo run` would
    # build the library and four dependencies again, without the features
    # the dev-dependencies add (checked: regex-automata, regex-syntax,
    # matchers, tracing-subscriber, then the whole library a second time).
    # (a function run by `stage` is not stopped by `set -e`: check by hand)
    out=$("$target_dir/debug/ledgerscope-bench" --smoke) || return
    printf '%s\n' "$out"
    raw_rate=$(printf '%s\n' "$out" | grep '"name":"ingest_raw_1"' |
        sed -E 's/.*"per_sec":([0-9]+)(\.[0-9]*)?.*/\1 events\/s (one fsync per event)/' | head -n 1)
    raw_rate="${raw_rate:-not printed by the bench}"
}
stage "bench smoke" bench_smoke

stage "test: lib" cargo test --locked --lib -- "$@"
# Each test binary: tests/NAME.rs, or tests/NAME/main.rs with its modules.
for test_file in tests/*.rs tests/*/main.rs; do
    [ -e "$test_file" ] || continue
    name="$(basename "$test_file" .rs)"
    [ "$name" = main ] && name="$(basename "$(dirname "$test_file")")"
    stage "test: $name" cargo test --locked --test "$name" -- "$@"
done
