#!/usr/bin/env bash
# Validates the deployment artefacts offline (.ci/run calls it):
#   - installs helm from the Go module proxy and kubernetes-validate from PyPI into .tools/;
#   - helm lint and helm template of deploy/helm/mcpgate with the default values, the production
#     values and deploy/k8s/values.yaml;
#   - every rendered object validated against the Kubernetes schemas kubernetes-validate bundles
#     (no network), in strict mode (an unknown field is an error);
#   - deploy/k8s/mcpgate.yaml is exactly what the chart renders (`--write` regenerates it).
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v4.3.2
KUBERNETES_VALIDATE_VERSION=1.37.0
# The Kubernetes version the manifests are rendered for and validated against.
KUBE_VERSION=1.33.0
CHART=deploy/helm/mcpgate
TOOLS=$PWD/.tools
OUT=$PWD/.tmp/deploy
mkdir -p "$TOOLS/bin" "$OUT"

log() { printf '== %s\n' "$*"; }

if ! "$TOOLS/bin/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
  log "installing helm $HELM_VERSION (go install, Go module proxy)"
  GOBIN="$TOOLS/bin" GOFLAGS=-buildvcs=false go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
fi
HELM="$TOOLS/bin/helm"
if ! "$TOOLS/kubernetes-validate/bin/kubernetes-validate" --version 2>/dev/null | grep -q "$KUBERNETES_VALIDATE_VERSION"; then
  log "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION (PyPI)"
  python3 -m venv "$TOOLS/kubernetes-validate"
  "$TOOLS/kubernetes-validate/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi
VALIDATE="$TOOLS/kubernetes-validate/bin/kubernetes-validate"
# Helm's own caches and config stay in .tools (no home directory writes, nothing fetched).
export HELM_CACHE_HOME="$TOOLS/helm/cache" HELM_CONFIG_HOME="$TOOLS/helm/config" HELM_DATA_HOME="$TOOLS/helm/data"

render() { # name, values file (or "")
  local name=$1 values=$2
  local args=(template mcpgate "$CHART" --namespace mcpgate --kube-version "$KUBE_VERSION")
  [ -n "$values" ] && args+=(-f "$values")
  log "helm lint ($name)"
  if [ -n "$values" ]; then "$HELM" lint --strict "$CHART" -f "$values"; else "$HELM" lint --strict "$CHART"; fi
  log "helm template ($name)"
  "$HELM" "${args[@]}" > "$OUT/$name.yaml"
  log "kubernetes-validate ($name, Kubernetes $KUBE_VERSION, strict)"
  "$VALIDATE" --strict --kubernetes-version "$KUBE_VERSION" "$OUT/$name.yaml"
  # Each kind the chart must render for this topology.
  for kind in Deployment Service ConfigMap NetworkPolicy PodDisruptionBudget HorizontalPodAutoscaler; do
    grep -q "^kind: $kind$" "$OUT/$name.yaml" || { echo "$name: no $kind rendered" >&2; exit 1; }
  done
}

render default ""
render production "$CHART/values-production.yaml"
render plain deploy/k8s/values.yaml

# A release that could not work is refused at render time.
log "helm template refuses an external database without a URL"
if "$HELM" template mcpgate "$CHART" --kube-version "$KUBE_VERSION" --set database.bundled=false > /dev/null 2>"$OUT/refused.txt"; then
  echo "helm template accepted database.bundled=false without a URL" >&2; exit 1
fi
grep -q "database.url or database.existingSecret" "$OUT/refused.txt"

PLAIN=deploy/k8s/mcpgate.yaml
{
  echo "# Plain Kubernetes manifests rendered from deploy/helm/mcpgate with deploy/k8s/values.yaml,"
  echo "# for clusters where Helm is not allowed (docs/deploy.md). Do not edit: regenerate with"
  echo "#   bash scripts/validate-deploy.sh --write"
  echo "# Create the Secrets mcpgate-auth, mcpgate-db and mcpgate-redis first (docs/deploy.md)."
  cat "$OUT/plain.yaml"
} > "$OUT/plain-with-header.yaml"
if [ "${1:-}" = "--write" ]; then
  cp "$OUT/plain-with-header.yaml" "$PLAIN"
  log "wrote $PLAIN"
elif ! cmp -s "$OUT/plain-with-header.yaml" "$PLAIN"; then
  diff -u "$PLAIN" "$OUT/plain-with-header.yaml" | head -40 >&2 || true
  echo "$PLAIN is not what the chart renders: run bash scripts/validate-deploy.sh --write" >&2
  exit 1
fi
log "deployment artefacts valid: 3 renderings, lint clean, every object matches the Kubernetes $KUBE_VERSION schemas"
