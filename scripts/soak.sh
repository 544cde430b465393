#!/usr/bin/env bash
# Full-size drills, too long for CI (scripts/test.sh runs the same tests at
# the smallest sizes that still catch their faults). Starts the servers it
# needs like scripts/test.sh, runs each drill bounded in time, prints one
# summary line per drill (what, size, figure, pass/fail) and ends with
# "N passed, N failed"; exits non-zero if any failed.
#
#   scripts/soak.sh                 # every drill
#   scripts/soak.sh stream replay   # some of them (concurrency,
#                                   # concurrency-servers, stream,
#                                   # stream-servers, replay)
#
# Each drill's full output goes to target/soak/<drill>.log.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"

eval "$(scripts/services.sh start)" || { echo "soak.sh: the servers did not start" >&2; exit 2; }
export LEDGERSCOPE_MONGO_URI LEDGERSCOPE_POSTGRES_URL
export CI=true # a missing server is a failure, not a skip
logs="${CARGO_TARGET_DIR:-target}/soak"
mkdir -p "$logs"

echo "== building the test binaries" >&2
cargo test --locked --test real_servers --no-run >&2 || exit 2

# name|test|limit in seconds|size variables
# FerretDB scans a collection for nearly every query, so a drill's time
# there grows with the square of its ledger: the volume of concurrency runs
# on the embedded store (eight processes on the same SQLite files), and the
# servers' drill at the size that fits its bound.
drills=(
    "concurrency|concurrency::eight_writers_two_projecting_instances|5400|LEDGERSCOPE_CONCURRENCY_COMMANDS=1000 LEDGERSCOPE_CONCURRENCY_STORES=embedded"
    "concurrency-servers|concurrency::eight_writers_two_projecting_instances|2400|LEDGERSCOPE_CONCURRENCY_COMMANDS=60"
    "stream|outages::read_store_down_during_a_stream_then_catch_up|3600|LEDGERSCOPE_STREAM_COMMANDS=5000 LEDGERSCOPE_STREAM_LEDGER=embedded"
    "stream-servers|outages::read_store_down_during_a_stream_then_catch_up|1800|LEDGERSCOPE_STREAM_COMMANDS=400"
    "replay|outages::sigkill_mid_replay_leaves_the_old_tables|1800|LEDGERSCOPE_REPLAY_EVENTS=300000"
)
wanted=("$@")
passed=0
failed=0
summary=()
for drill in "${drills[@]}"; do
    IFS='|' read -r name test limit sizes <<<"$drill"
    if [ "${#wanted[@]}" -gt 0 ] && ! printf '%s\n' "${wanted[@]}" | grep -qx "$name"; then
        continue
    fi
    log="$logs/$name.log"
    echo "== $name: $test ($sizes, at most $limit s; log $log)" >&2
    started=$(date +%s)
    # timeout signals the whole process group: the test and the instances it spawned.
    env $sizes timeout --kill-after=30 "$limit" \
        cargo test --locked --test real_servers -- --exact "$test" --nocapture >"$log" 2>&1
    rc=$?
    # A name that matches no test runs nothing and exits 0: that is no pass.
    if [ "$rc" = 0 ] && ! grep -q "^test result: ok. 1 passed" "$log"; then
        rc=3
    fi
    secs=$(( $(date +%s) - started ))
    # A drill cut off mid-outage leaves a server stopped: bring both back.
    scripts/services.sh start >/dev/null 2>&1
    figure=$(grep '^FIGURE |' "$log" | tail -n 1 | cut -d'|' -f2- | sed 's/^ *//')
    if [ "$rc" = 0 ]; then
        verdict="pass"
        passed=$((passed + 1))
    else
        case "$rc" in
            124) verdict="FAIL (over $limit s)" ;;
            3) verdict="FAIL (no test named $test ran)" ;;
            *) verdict="FAIL (exit $rc)" ;;
        esac
        failed=$((failed + 1))
        figure="${figure:-$test | $sizes | no figure}"
    fi
    line="$figure | $verdict in $secs s"
    summary+=("$line")
    echo "$line"
done
echo
printf '%s\n' "${summary[@]}" >&2
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
