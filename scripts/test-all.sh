#!/usr/bin/env bash
# Runs go vet and the tests of every module in the repository: the core
# module and every module inside it (found by their go.mod): the store
# modules (which start throwaway redis-server and PostgreSQL processes, or
# use KOOGALLERY_TEST_REDIS_URL and KOOGALLERY_TEST_DATABASE_URL), cmd/kgctl,
# examples/seller-server and the conformance module.
#
#   scripts/test-all.sh          vet and test every module
#   scripts/test-all.sh -race    the same under the race detector
set -euo pipefail
cd "$(dirname "$0")/.."
flags=()
if [ "${1:-}" = "-race" ]; then
  flags+=(-race)
fi
# The store suites mostly wait for leases to expire: let more of them
# wait at once than the machine has cores.
for mod in $(git ls-files '*go.mod' | xargs -n1 dirname | sort); do
  echo "== $mod"
  (cd "$mod" && go vet ./... && go test "${flags[@]}" -parallel 8 ./...)
done
