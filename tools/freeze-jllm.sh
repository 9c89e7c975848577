#!/usr/bin/env bash
# Copies the built CLI (jar, libraries, launcher) to DIR, so benchmarks keep running one build while the sources change.
#   tools/freeze-jllm.sh DIR   then run DIR/jllm ...
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
D="$1"
"$ROOT/jllm" --version >/dev/null
rm -rf "$D"; mkdir -p "$D/cli/target" "$D/bin"
cp "$ROOT/jllm" "$D/"; cp "$ROOT/bin/jdk25.sh" "$D/bin/"
cp -r "$ROOT/cli/target/jllm-cli.jar" "$ROOT/cli/target/lib" "$D/cli/target/"
touch "$D/cli/target/.jllm-build-stamp"
