#!/bin/sh
# install-deps.sh: installs what agent needs to build and test, from Debian's
# packages. Safe to run again: apt-get skips what is already installed.
# Run as root (or through sudo). Beyond the build: python3 and aiosmtpd run the
# tests' booking and SMTP servers, curl and lua5.4 drive the stand-in's
# tests, chromium renders `agent sim view`'s page headless.
set -eu

PKGS="build-essential autoconf automake pkg-config
      libuv1-dev libcurl4-openssl-dev libcjson-dev libseccomp-dev
      liblua5.4-dev libssl-dev libgumbo-dev ca-certificates
      python3 python3-aiosmtpd curl lua5.4
      chromium fonts-dejavu-core"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "install-deps: all packages already installed"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
