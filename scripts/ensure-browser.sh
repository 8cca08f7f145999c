#!/usr/bin/env bash
# Ensure what the dashboard's build and end-to-end tests need is installed:
# node (>= 20) with npm, and a headless Chromium (Debian's `chromium` package; Playwright's
# own browser download is never used). Installs from the Debian packages when absent
# (root, or sudo without a password); never upgrades or removes anything.
#
# Usage: scripts/ensure-browser.sh [--node-only]
# Prints one "... ok ..." line on stdout; progress and errors go to stderr.

set -euo pipefail

PROG="ensure-browser"
APT_UPDATED=0
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

as_root() {
    if [[ "${EUID}" -eq 0 ]]; then
        "$@"
    elif have sudo && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        die "need root (or passwordless sudo) to install: $*"
    fi
}

apt_install() {
    have apt-get || die "no apt-get: install $* yourself"
    if [[ "${APT_UPDATED}" -eq 0 ]]; then
        log "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        APT_UPDATED=1
    fi
    log "installing $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if ! have node || ! have npm; then
    apt_install nodejs npm
fi
if [[ "$(node_major)" -lt 20 ]]; then
    die "node $(node --version) is too old: the dashboard needs node >= 20 (Debian bookworm's nodejs is 18; install node 20 from nodejs.org or NodeSource)"
fi

if [[ "${1:-}" == "--node-only" ]]; then
    echo "ensure-browser: ok (node $(node --version), npm $(npm --version))"
    exit 0
fi

chromium_path="${CHROMIUM_PATH:-}"
if [[ -z "${chromium_path}" ]]; then
    for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
        if [[ -x "${candidate}" ]]; then chromium_path="${candidate}"; break; fi
    done
fi
if [[ -z "${chromium_path}" ]]; then
    apt_install chromium fonts-dejavu-core
    chromium_path=/usr/bin/chromium
fi
[[ -x "${chromium_path}" ]] || die "no Chromium at ${chromium_path}"
echo "ensure-browser: ok (node $(node --version), $("${chromium_path}" --version 2>/dev/null | head -1))"
