#!/bin/sh
# Re-capture the VRRP test vectors from Debian's keepalived 2.2.7 (root; network namespaces).
# Usage: scripts/capture-vectors.sh [outDir]   (default test/fixtures/vrrp)
set -eu
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
exec timeout 90 node dist/scripts/capture-vectors.js "${1:-test/fixtures/vrrp}"
