#!/usr/bin/env bash
# Installs the real MCP SDK clients that test/gateway-sdk-clients.test.ts drives through the
# gateway, into .tools/ (ignored by git):
#   .tools/mcp-py      Python venv with the Python MCP SDK (`pip install mcp`)
#   .tools/mcp-go      test/clients/go-mcp built against github.com/modelcontextprotocol/go-sdk
# Each part is skipped when already installed, and reported (not fatal) when its toolchain
# (python3, go) is missing: the tests then skip, or fail under MCPGATE_TEST_REQUIRE_SERVICES=1.
# Runs on a fresh machine with CI=true and no stdin.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
PY_SDK_VERSION=2.3.0
mkdir -p "$TOOLS"
status=0

say() { printf 'mcp-clients: %s\n' "$*"; }

# shellcheck source=lib/client-tools.sh
. "$ROOT/scripts/lib/client-tools.sh"

py_venv "python MCP SDK" "$TOOLS/mcp-py" "mcp==$PY_SDK_VERSION" \
  "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$PY_SDK_VERSION')"
go_driver "go MCP client" test/clients/go-mcp "$TOOLS/mcp-go/driver"

exit $status
