#!/usr/bin/env bash
# Builds the Debian package: target/debian/ledgerscope_<version>-1_<arch>.deb
# with the stripped binary, a menu entry, its icon and the README
# (Cargo.toml's [package.metadata.deb]). Installs cargo-deb first if it is
# missing. Install the package with: sudo apt install ./target/debian/ledgerscope_*.deb
#
#   scripts/package.sh            build the package
#   scripts/package.sh --check    also install it here and check what it installed
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if ! cargo deb --version >/dev/null 2>&1; then
    echo "== installing cargo-deb" >&2
    cargo install cargo-deb --locked
fi
for tool in dpkg-deb dpkg-shlibdeps strip; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "scripts/package.sh: $tool is missing (apt install dpkg-dev binutils)" >&2
        exit 1
    fi
done

echo "== building the package (a release build: about 10 minutes from scratch)" >&2
# cargo-deb strips the binary (line tables included) after the build.
cargo deb --locked --strip
deb=$(ls -t target/debian/ledgerscope_*.deb | head -n 1)
size_mb=$(( $(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/ledgerscope | wc -c) / 1024 / 1024 ))
echo "$deb: the binary is ${size_mb} MB stripped" >&2
if [ "$size_mb" -gt 40 ]; then
    echo "scripts/package.sh: the stripped binary is over 40 MB" >&2
    exit 1
fi

if [ "${1:-}" = "--check" ]; then
    echo "== installing $deb and checking it" >&2
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get install -y "./$deb" >&2
    command -v ledgerscope
    ledgerscope --version
    test -f /usr/share/applications/ledgerscope.desktop
    test -f /usr/share/icons/hicolor/256x256/apps/ledgerscope.png
    grep -q '^Exec=ledgerscope$' /usr/share/applications/ledgerscope.desktop
    if command -v desktop-file-validate >/dev/null 2>&1; then
        desktop-file-validate /usr/share/applications/ledgerscope.desktop
    fi
    echo "installed: $(dpkg -s ledgerscope | grep '^Version')" >&2
fi
echo "$deb"
