#!/usr/bin/env bash
# install.sh - install, or download and unpack, the POP3 servers the probe is run against:
# GNU Mailutils pop3d, popa3d, Cyrus pop3d and Courier pop3d (Dovecot comes from
# .ci/install-deps). Debian 12, as root, safe to rerun.
#
#   install.sh [ROOT]     ROOT (default /var/tmp/pop3kit-servers) receives the unpacked trees
#
# popa3d, cyrus-pop3d and courier-pop each declare "Conflicts: pop3-server" (Dovecot's
# dovecot-pop3d provides it), and cyrus-common depends on a mail transport agent: those are
# fetched with apt-get download and unpacked with dpkg -x into ROOT/<package>, never
# configured; the start scripts run their binaries from there (LD_LIBRARY_PATH for the
# libraries they carry). What has no conflict (mailutils-pop3d, Courier's authentication
# library and base tools, the shared libraries Cyrus links against) is installed normally.
# A policy-rc.d that refuses keeps the packages' scripts from starting any system service.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
root=${1:-/var/tmp/pop3kit-servers}
[ "$(id -u)" = 0 ] || { echo "install.sh: must run as root" >&2; exit 1; }

# Installed through dpkg: no conflict with Dovecot, and no service left running.
packages=(mailutils-pop3d courier-base courier-authlib courier-authdaemon courier-authlib-userdb
          libcourier-unicode4 sasl2-bin libsasl2-modules db-util openssl python3
          # what cyrus-common's binaries link against (cyrus-common itself is unpacked)
          libclamav12 libical3 libicu72 libjansson4 libxapian30 libzephyr4 libpq5 libsqlite3-0
          libxml2 libwrap0 libkrb5-3 libldap-2.5-0 libpcre3 libcom-err2 zlib1g libssl3)
# Unpacked into ROOT: each conflicts with pop3-server, or drags in an MTA.
unpacked=(popa3d cyrus-common cyrus-pop3d courier-pop)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
need_unpack=()
for p in "${unpacked[@]}"; do [ -f "$root/$p/.unpacked" ] || need_unpack+=("$p"); done

if [ "${#missing[@]}" -gt 0 ] || [ "${#need_unpack[@]}" -gt 0 ]; then
  apt-get update
fi
if [ "${#missing[@]}" -gt 0 ]; then
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  if [ "$had_policy" = 0 ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; fi
  rc=0
  apt-get install -y --no-install-recommends "${missing[@]}" || rc=$?
  if [ "$had_policy" = 0 ]; then rm -f "$policy"; fi
  [ "$rc" = 0 ] || exit "$rc"
fi
# Courier's authdaemond may have been started by a postinst on a system without the
# policy: the start script runs its own, in a namespace of its own, so nothing to do here.

if [ "${#need_unpack[@]}" -gt 0 ]; then
  mkdir -p "$root/debs"
  chmod 755 "$root" "$root/debs"
  # apt-get download writes into the current directory; _apt cannot write to a folder of
  # root's, which is harmless (it says so and downloads as root).
  (cd "$root/debs" && apt-get download "${need_unpack[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  for p in "${need_unpack[@]}"; do
    deb=$(ls -t "$root/debs/${p}_"*.deb 2>/dev/null | head -n1)
    [ -n "$deb" ] || { echo "install.sh: apt-get download $p failed" >&2; exit 1; }
    rm -rf "${root:?}/$p"
    mkdir -p "$root/$p"
    dpkg -x "$deb" "$root/$p"
    dpkg-deb -f "$deb" Version > "$root/$p/.version"
    touch "$root/$p/.unpacked"
  done
fi
# The unpacked trees are read by unprivileged server processes.
chmod 755 "$root"
for p in "${unpacked[@]}"; do chmod 755 "$root/$p"; done
echo "install.sh: servers ready under $root"
