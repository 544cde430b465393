#!/usr/bin/env bash
# The project's test command. On a fresh machine it installs what is missing,
# starts real PostgreSQL and FerretDB (MongoDB wire protocol) on loopback,
# and runs the whole suite against them. With CI=true a missing server fails
# the real-server tests instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"

if ! command -v cargo >/dev/null 2>&1; then
    echo "scripts/test.sh: cargo is missing; install Rust with rustup first" >&2
    exit 1
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component" >&2
    fi
done

# A clean clone gains nothing from incremental artifacts; they only take disk.
if [ "${CI:-}" = "true" ]; then
    export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi
# A full disk fails the build minutes in with a compiler error; say it first.
target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target_dir"
free_gb=$(df -P -BG "$target_dir" | awk 'NR == 2 { sub("G", "", $4); print $4 }')
echo "== disk: ${free_gb} GB free for $target_dir (a clean test run writes about 2 GB)" >&2
if [ "${free_gb:-0}" -lt 4 ]; then
    echo "scripts/test.sh: warning: under 4 GB free where cargo builds; the build may fail with 'No space left on device'" >&2
fi

# Real servers (installs PostgreSQL from Debian and builds our FerretDB launcher if needed).
eval "$(scripts/services.sh start)"
export LEDGERSCOPE_MONGO_URI LEDGERSCOPE_POSTGRES_URL

echo "== format and lints" >&2
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

echo "== benchmark smoke run (tiny N, figures printed, no timing asserts)" >&2
cargo run --locked --quiet --bin ledgerscope-bench -- --smoke

echo "== tests" >&2
cargo test --locked --all-targets -- "$@"

