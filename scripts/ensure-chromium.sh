#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests when it is missing (as root, as CI runs).
# Without root it says what to run instead; under CI=true a browser that cannot be had fails.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ]; then
    echo "installing Chromium (Debian package: chromium) for the browser tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
    exit 0
fi
echo "Chromium is missing: run 'sudo apt-get install -y chromium' for the browser tests" >&2
if [ "${CI:-}" = "true" ]; then
    exit 1
fi
