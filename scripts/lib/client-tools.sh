# Shared steps of scripts/mcp-clients.sh and scripts/nacos-clients.sh: a Python venv with one
# pinned package, and a Go driver built from a folder of test/clients. Each step is skipped when
# already done and reported (not fatal) when its toolchain is missing; a failure sets `status=1`
# in the calling script. Source this file after defining `say` and `status`.

# py_venv <label> <venv dir> <pip requirement> <python code that succeeds when installed>
py_venv() {
  local label=$1 venv=$2 requirement=$3 check=$4
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
    say "$label present"
  elif command -v python3 >/dev/null; then
    say "installing $label ($requirement)"
    if python3 -m venv "$venv" </dev/null && "$venv/bin/pip" install -q --disable-pip-version-check "$requirement" </dev/null; then
      say "$label installed"
    else
      say "$label NOT installed"; status=1
    fi
  else
    say "python3 missing: $label not installed"; status=1
  fi
}

# go_driver <label> <source dir> <output binary>: rebuilt when any .go file or go.mod is newer.
go_driver() {
  local label=$1 src=$2 out=$3
  if ! command -v go >/dev/null; then say "go missing: $label not built"; status=1; return; fi
  if [ -x "$out" ] && [ -z "$(find "$src" \( -name '*.go' -o -name go.mod -o -name go.sum \) -newer "$out" -print -quit)" ]; then
    say "$label present"
  else
    say "building $label"
    if (cd "$src" && go build -o "$out" . </dev/null); then say "$label built"; else say "$label NOT built"; status=1; fi
  fi
}
