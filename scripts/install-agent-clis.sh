#!/usr/bin/env bash
# Installs the pinned agent CLIs that agentry's real-program tests drive.
#
# Everything comes from the npm registry: each CLI's native binary is an optional
# dependency of its wrapper package (claude's postinstall only copies it into place),
# so nothing is fetched from anywhere else. claude-code-acp (the `acp` backend's test
# agent) drives Claude Code over the Agent Client Protocol on stdio. Idempotent: skips
# npm when the pinned versions are already installed and runnable.
#
# Usage: scripts/install-agent-clis.sh   (AGENTRY_AGENT_CLIS picks the install prefix)
set -euo pipefail

CLAUDE_VERSION=2.1.330
CODEX_VERSION=0.169.0
CLAUDE_ACP_VERSION=0.16.2

prefix="${AGENTRY_AGENT_CLIS:-$HOME/.cache/agentry/agent-clis}"
bin="$prefix/node_modules/.bin"

# The version of the installed package $1, or nothing when it is absent.
installed_version() {
    local manifest="$prefix/node_modules/$1/package.json"
    [[ -f "$manifest" ]] && node -p "require(process.argv[1]).version" "$manifest"
}

# True when every pin is installed and the CLIs start (claude-code-acp has no --version:
# it only speaks ACP on stdio, so its binary being present is the check).
up_to_date() {
    [[ "$(installed_version @anthropic-ai/claude-code)" == "$CLAUDE_VERSION" ]] &&
        [[ "$(installed_version @openai/codex)" == "$CODEX_VERSION" ]] &&
        [[ "$(installed_version @zed-industries/claude-code-acp)" == "$CLAUDE_ACP_VERSION" ]] &&
        [[ -x "$bin/claude-code-acp" ]] &&
        "$bin/claude" --version >/dev/null 2>&1 &&
        "$bin/codex" --version >/dev/null 2>&1
}

# The prefix is ours: its manifest pins the CLIs and approves claude's postinstall
# (newer npm skips unapproved install scripts; older npm ignores allowScripts).
write_manifest() {
    cat >"$prefix/package.json" <<JSON
{
  "private": true,
  "dependencies": {
    "@anthropic-ai/claude-code": "$CLAUDE_VERSION",
    "@openai/codex": "$CODEX_VERSION",
    "@zed-industries/claude-code-acp": "$CLAUDE_ACP_VERSION"
  },
  "allowScripts": { "@anthropic-ai/claude-code@$CLAUDE_VERSION": true }
}
JSON
}

if up_to_date; then
    echo "agent CLIs already installed in $prefix"
else
    mkdir -p "$prefix"
    write_manifest
    # --include=optional and --ignore-scripts=false override user configs that would leave
    # claude's placeholder binary in place; claude asks for node >= 22 but its native
    # binary does not use node, so the engine warning on older nodes is harmless.
    npm install --prefix "$prefix" --no-audit --no-fund --include=optional --ignore-scripts=false
fi

echo "claude: $bin/claude ($("$bin/claude" --version))"
echo "codex:  $bin/codex ($("$bin/codex" --version))"
echo "claude-code-acp: $bin/claude-code-acp ($(installed_version @zed-industries/claude-code-acp))"
