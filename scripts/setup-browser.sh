#!/bin/sh
# Installs Debian's Chromium for the browser tests of the web app (tests/web/*browser*).
# Playwright drives /usr/bin/chromium directly, so no browser is downloaded by Playwright.
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-browser: /usr/bin/chromium is missing and apt-get is not available;" >&2
    echo "install Chromium so that /usr/bin/chromium exists, then re-run." >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi
echo "setup-browser: installing Debian's chromium (once)..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
test -x /usr/bin/chromium
echo "setup-browser: $(/usr/bin/chromium --version)"
