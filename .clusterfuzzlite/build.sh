#!/bin/bash -eu
# .clusterfuzzlite/build.sh - ClusterFuzzLite's build: the same script as OSS-Fuzz's.
exec "$SRC/pop3kit/fuzz/oss-fuzz/build.sh"
