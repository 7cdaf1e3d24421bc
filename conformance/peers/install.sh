#!/usr/bin/env bash
# install.sh - install the POP3 clients the peer adapters drive, as root on Debian 12.
# Safe to rerun: a Debian package already installed is not asked for again, and the
# Node.js library is installed only when its folder lacks it.
#
#   Perl Net::POP3   perl-modules-5.36 (libnet), with IO::Socket::SSL and Authen::SASL
#                    (libio-socket-ssl-perl libauthen-sasl-perl libdigest-hmac-perl)
#                                                   fetchmail   fetchmail
#   Ruby Net::POP3   ruby (the bundled net-pop gem)  mpop        mpop
#   PHP imap         php-cli php-imap (UW c-client)  getmail6    getmail6
#   Node.js          nodejs npm, then node-pop3 from npm into peers/node_modules
#   BusyBox          busybox (popmaildir)   s-nail      s-nail (its pop3 folders)
#   curl             curl, and libcurl4 (libcurl.so.4: the curl adapter drives it through
#                    Python's ctypes)
#
# The npm package goes into this folder's node_modules (never a global install), pinned
# by version so every run measures the same client.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
here=$(cd "$(dirname "$0")" && pwd)
packages=(perl perl-modules-5.36 libio-socket-ssl-perl libauthen-sasl-perl libdigest-hmac-perl ruby php-cli php-imap nodejs npm fetchmail mpop getmail6
          s-nail busybox curl libcurl4 python3 ca-certificates)
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # nodejs may come from another repository (NodeSource ships npm inside nodejs); ask
  # apt only for npm when no npm command is there at all.
  if command -v npm >/dev/null; then
    filtered=()
    for p in "${missing[@]}"; do [ "$p" = npm ] || [ "$p" = nodejs ] || filtered+=("$p"); done
    missing=("${filtered[@]+"${filtered[@]}"}")
  fi
fi
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 update
  # a policy-rc.d that says no keeps packages from starting services (fetchmail's daemon)
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  if [ "$had_policy" = 0 ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; fi
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
  if [ "$had_policy" = 0 ]; then rm -f "$policy"; fi
fi
NODE_POP3_VERSION=0.11.0
if ! [ -f "$here/node_modules/node-pop3/package.json" ] ||
   ! grep -q "\"version\": \"$NODE_POP3_VERSION\"" "$here/node_modules/node-pop3/package.json"; then
  (cd "$here" && npm install --no-save --no-package-lock --no-audit --no-fund \
     --prefix "$here" "node-pop3@$NODE_POP3_VERSION")
fi
