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

# ---- Python ----
if [ -x "$TOOLS/nacos-py/bin/python" ] && "$TOOLS/nacos-py/bin/python" -c 'import v2.nacos, v2.nacos.ai' 2>/dev/null; then
  say "python client present"
elif command -v python3 >/dev/null; then
  say "installing nacos-sdk-python $PY_CLIENT_VERSION"
  if python3 -m venv "$TOOLS/nacos-py" </dev/null && "$TOOLS/nacos-py/bin/pip" install -q --disable-pip-version-check "nacos-sdk-python==$PY_CLIENT_VERSION" </dev/null; then
    say "python client installed"
  else
    say "python client NOT installed"; status=1
  fi
else
  say "python3 missing: python client not installed"; status=1
fi

# ---- Go ----
if command -v go >/dev/null; then
  if [ -x "$TOOLS/nacos-go/driver" ] && [ "$TOOLS/nacos-go/driver" -nt test/clients/go/main.go ]; then
    say "go client present"
  else
    say "building the go client driver"
    if (cd test/clients/go && go build -o "$TOOLS/nacos-go/driver" . </dev/null); then say "go client built"; else say "go client NOT built"; status=1; fi
  fi
else
  say "go missing: go client not built"; status=1
fi

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
