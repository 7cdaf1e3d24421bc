#!/usr/bin/env bash
# campaign.sh - run pop3-fuzz client against each real client of this folder in turn
# and print the fuzz/README.md campaign table (runs, runs/s, findings).
#
#   fuzz/net/clients/campaign.sh [--seconds N] [--seed N] [--out DIR] [--fuzz PROG]
#                                [--pop3 PROG] [--hang-ms MS] [CLIENT ...]
#
# CLIENT is one of pop3 poplib curl fetchmail mpop getmail (all by default). --pop3 names
# the pop3 program the `pop3` client runs (a sanitizer build for a campaign). Findings go
# to DIR/CLIENT/ as pop3-mock scripts that `pop3-fuzz replay` plays again.
#
# --hang-ms (10000) stays well above the 5 s read timeout every wrapper gives its client:
# a client that waits out its own timeout on a silent server and then reports it is
# doing its job, and must not count as a hang.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
seconds=600 seed=1 hang_ms=10000 out=netfuzz-campaign fuzz=$root/build/bin/pop3-fuzz pop3=$root/build/bin/pop3
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --fuzz) fuzz=$2; shift 2 ;;
    --pop3) pop3=$2; shift 2 ;;
    --hang-ms) hang_ms=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "campaign.sh: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- pop3 poplib curl fetchmail mpop getmail
declare -A cmd ok
cmd[pop3]="POP3_BIN='$pop3' sh '$here/pop3.sh'"; ok[pop3]=0-5
cmd[poplib]="python3 '$here/poplib_session.py'"; ok[poplib]=0-5
cmd[curl]="sh '$here/curl.sh'"; ok[curl]=0-99
cmd[fetchmail]="sh '$here/fetchmail.sh'"; ok[fetchmail]=0-14
cmd[mpop]="sh '$here/mpop.sh'"; ok[mpop]=0,64-69,71-78
cmd[getmail]="sh '$here/getmail.sh'"; ok[getmail]=0-3,127
mkdir -p "$out"
rows=()
for c in "$@"; do
  [ -n "${cmd[$c]:-}" ] || { echo "campaign.sh: no client '$c'" >&2; exit 2; }
  log=$out/$c.log
  rc=0
  "$fuzz" client --seconds "$seconds" --seed "$seed" --seeds "$root/conformance/cases" \
    --ok-exit "${ok[$c]}" --hang-ms "$hang_ms" --out "$out/$c" --client "${cmd[$c]}" > "$log" 2>&1 || rc=$?
  [ "$rc" -le 1 ] || { echo "campaign.sh: pop3-fuzz failed on $c (exit $rc), see $log" >&2; exit 1; }
  last=$(tail -n 1 "$log")
  runs=${last%% runs*}
  found=$(sed -n 's/.*runs, \([0-9]*\) findings.*/\1/p' <<<"$last")
  rate=$(awk -v r="$runs" -v s="$seconds" 'BEGIN { printf "%.1f", r / s }')
  rows+=("| $c | $seconds s | $runs | $rate | $found |")
  echo "${rows[-1]}"
done
echo
echo "| client | time | runs | runs/s | findings |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
