#!/usr/bin/env bash
# Installs Debian's Chromium for the report's real-browser test (tests/test_report.py) when it is missing.
# Playwright's own `playwright install` downloads browsers from a CDN; the tests drive this system
# Chromium instead, through Playwright's Python package with executable_path=/usr/bin/chromium.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_browser.sh: $CHROMIUM is missing and this is not root (no sudo either)." >&2
        echo "Install it as root: apt-get update && apt-get install -y chromium" >&2
        exit 1
    fi
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser.sh: no apt-get here; install Chromium so that $CHROMIUM exists." >&2
    exit 1
fi

echo "install_browser.sh: installing Debian's chromium (for the report's browser test)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
"$CHROMIUM" --version
