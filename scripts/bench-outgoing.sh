#!/usr/bin/env bash
# Reruns the benchmarks of the outgoing direction (seller -> KooGallery open
# APIs) side by side and prints their medians and ratios as markdown: the
# signer groups of scripts/benchmarks.sh (sign, order, usage, upload), which
# documents the arguments and the environment (COUNT, BENCHTIME, CALLGRIND,
# OUT, BASE_REF...).
#
# Usage: scripts/bench-outgoing.sh [BASE_REF]
set -euo pipefail
ONLY=${ONLY:-sign,order,usage,upload} REPORT=${REPORT:--} exec "$(dirname "$0")/benchmarks.sh" "$@"
