#!/bin/bash -eu
# fuzz/oss-fuzz/build.sh - build pop3kit's fuzz targets the way OSS-Fuzz and
# ClusterFuzzLite expect (https://google.github.io/oss-fuzz/getting-started/new-project-guide/).
#
# Reads the environment those projects set: CC, CFLAGS (sanitizer and coverage flags),
# LIB_FUZZING_ENGINE (the engine to link, e.g. -fsanitize=fuzzer), OUT (where the
# results go), SRC (where the sources are), WORK (scratch, optional). Writes, for every
# target fuzz/fuzz_NAME.c, into $OUT: fuzz_NAME, fuzz_NAME.dict, fuzz_NAME.options and
# fuzz_NAME_seed_corpus.zip (corpus/NAME/: seeds and every regression).
#
# Run locally from a checkout, for example:
#   SRC=/tmp OUT=/tmp/out CC=clang CFLAGS="-fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
#     LIB_FUZZING_ENGINE=-fsanitize=fuzzer bash fuzz/oss-fuzz/build.sh

# The checkout: beside this script when run from the tree, else $SRC/pop3kit (OSS-Fuzz
# copies build.sh to $SRC and clones the project there).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -f "$here/../../fuzz/fuzz_common.h" ]; then
  root="$(cd "$here/../.." && pwd)"
elif [ -f "$SRC/pop3kit/fuzz/fuzz_common.h" ]; then
  root="$SRC/pop3kit"
else
  echo "build.sh: cannot find the pop3kit sources (beside this script or in \$SRC/pop3kit)" >&2
  exit 1
fi

build="${WORK:-${TMPDIR:-/tmp}}/pop3kit-fuzz-build"
mkdir -p "$OUT"

# The engine's flags come from the environment, not from POP3_FUZZ: OSS-Fuzz decides the
# sanitizers (CFLAGS) and the engine (LIB_FUZZING_ENGINE). Build type None keeps its
# optimisation flags as given. OpenSSL (libcrypto, for MD5) is linked statically
# because the runner image has no libssl-dev; TLS transports are not needed by the
# codec targets.
cmake -S "$root" -B "$build" \
  -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_C_FLAGS="$CFLAGS" \
  -DCMAKE_BUILD_TYPE=None \
  -DPOP3_FUZZ=OFF \
  -DPOP3_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" \
  -DPOP3_TLS=OFF \
  -DPOP3_BUILD_TESTS=OFF \
  -DOPENSSL_USE_STATIC_LIBS=TRUE
cmake --build "$build" -j"$(nproc)" --target fuzzers

for src in "$root"/fuzz/fuzz_*.c; do
  name="$(basename "$src" .c)"   # fuzz_NAME
  target="${name#fuzz_}"         # NAME
  cp "$build/bin/$name" "$build/bin/$name.dict" "$build/bin/$name.options" "$OUT/"
  zip="$OUT/${name}_seed_corpus.zip"
  rm -f "$zip"
  if command -v zip > /dev/null; then
    (cd "$root/corpus/$target" && zip -q -X "$zip" ./*)
  else
    python3 - "$root/corpus/$target" "$zip" <<'PY'
import sys, zipfile, pathlib
src, dst = pathlib.Path(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for p in sorted(src.iterdir()):
        if p.is_file():
            z.write(p, p.name)
PY
  fi
done
