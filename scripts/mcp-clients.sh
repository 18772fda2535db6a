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

# ---- Python ----
if [ -x "$TOOLS/mcp-py/bin/python" ] && [ "$("$TOOLS/mcp-py/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))' 2>/dev/null)" = "$PY_SDK_VERSION" ]; then
  say "python MCP SDK present"
elif command -v python3 >/dev/null; then
  say "installing the python MCP SDK $PY_SDK_VERSION"
  if python3 -m venv "$TOOLS/mcp-py" </dev/null && "$TOOLS/mcp-py/bin/pip" install -q --disable-pip-version-check "mcp==$PY_SDK_VERSION" </dev/null; then
    say "python MCP SDK installed"
  else
    say "python MCP SDK NOT installed"; status=1
  fi
else
  say "python3 missing: python MCP SDK not installed"; status=1
fi

# ---- Go ----
if command -v go >/dev/null; then
  if [ -x "$TOOLS/mcp-go/driver" ] && [ "$TOOLS/mcp-go/driver" -nt test/clients/go-mcp/main.go ] && [ "$TOOLS/mcp-go/driver" -nt test/clients/go-mcp/go.mod ]; then
    say "go MCP client present"
  else
    say "building the go MCP client"
    if (cd test/clients/go-mcp && go build -o "$TOOLS/mcp-go/driver" . </dev/null); then say "go MCP client built"; else say "go MCP client NOT built"; status=1; fi
  fi
else
  say "go missing: go MCP client not built"; status=1
fi

exit $status
