#!/usr/bin/env bash
# Property-based fuzz of agentry's HTTP API from its OpenAPI document, with schemathesis
# (PyPI): every operation gets generated valid and invalid requests, and no answer may be a
# 5xx, undocumented, or out of its schema. Usage: scripts/fuzz-api.sh [path/to/agentry]
set -euo pipefail
cd "$(dirname "$0")/.."

agentry=${1:-target/debug/agentry}
agentry=$(realpath "$agentry")
config=$(realpath scripts/fuzz-api.toml)
command -v schemathesis >/dev/null || python3 -m pip install -q 'schemathesis==4.32.5'

work=$(mktemp -d)
cleanup() {
    [[ -n ${server:-} ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

git -C "$work" init -q -b main
(cd "$work" && "$agentry" init >/dev/null)
# Planning off: plans are made by the pass-through planner, with no model to reach. No token
# is configured: the server makes one and writes it to .agentry/runtime/token before it
# prints where it listens.
PLANNING__ENABLED=false AGENTRY_LOG=error "$agentry" -C "$work" serve --no-dispatch \
    --bind 127.0.0.1:0 >"$work/serve.out" &
server=$!
until grep -q '^listening on ' "$work/serve.out"; do
    kill -0 "$server" || { echo "agentry serve did not start" >&2; exit 1; }
    sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/serve.out")
token=$(cat "$work/.agentry/runtime/token")
# A task for the path parameters to find.
curl -fsS -H "Authorization: Bearer $token" -H "Content-Type: application/json" -d '{"title":"fuzz target"}' "$url/api/v1/tasks" >/dev/null

# The event streams never end, so they are left to their own tests. Run from the scratch
# folder: schemathesis keeps a cache where it runs.
cd "$work"
schemathesis --config-file "$config" run "$url/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --exclude-path-regex '/events$' \
    --max-examples "${FUZZ_EXAMPLES:-50}" \
    --request-timeout 10 \
    --workers 2
