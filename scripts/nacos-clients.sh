#!/usr/bin/env bash
# Installs the real Nacos clients that test/nacos-grpc-clients.test.ts drives against the Nacos
# gRPC port, into .tools/ (ignored by git):
#   .tools/nacos-py     Python venv with nacos-sdk-python (its v2 gRPC API and NacosAIService)
#   .tools/nacos-go     test/clients/go built against github.com/nacos-group/nacos-sdk-go/v2
#   .tools/nacos-java   com.alibaba.nacos:nacos-client jars and test/clients/java compiled
# Each part is skipped when already installed, and reported (not fatal) when its toolchain
# (python3, go, mvn + javac) is missing: the tests then skip, or fail under
# MCPGATE_TEST_REQUIRE_SERVICES=1. Runs on a fresh machine with CI=true and no stdin.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
PY_CLIENT_VERSION=3.2.0
mkdir -p "$TOOLS"
status=0

say() { printf 'nacos-clients: %s\n' "$*"; }

# shellcheck source=lib/client-tools.sh
. "$ROOT/scripts/lib/client-tools.sh"

py_venv "python client" "$TOOLS/nacos-py" "nacos-sdk-python==$PY_CLIENT_VERSION" 'import v2.nacos, v2.nacos.ai'
go_driver "go client" test/clients/go "$TOOLS/nacos-go/driver"

# ---- Java ----
if command -v mvn >/dev/null && command -v javac >/dev/null; then
  if [ -f "$TOOLS/nacos-java/classes/mcpgate/Driver.class" ] && [ "$TOOLS/nacos-java/classes/mcpgate/Driver.class" -nt test/clients/java/src/main/java/mcpgate/Driver.java ]; then
    say "java client present"
  else
    say "fetching nacos-client and compiling the java driver"
    if mvn -B -q -f test/clients/java/pom.xml dependency:copy-dependencies -DoutputDirectory="$TOOLS/nacos-java/lib" </dev/null \
      && javac -d "$TOOLS/nacos-java/classes" -cp "$TOOLS/nacos-java/lib/*" test/clients/java/src/main/java/mcpgate/Driver.java; then
      say "java client built"
    else
      say "java client NOT built"; status=1
    fi
  fi
else
  say "mvn or javac missing: java client not built"; status=1
fi

exit $status
