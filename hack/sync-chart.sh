#!/usr/bin/env bash
# Copies the generated CRDs into the Helm chart's templates so that `helm upgrade` upgrades them
# (a chart's crds/ directory is installed once and never upgraded). `make verify` runs this and
# fails when the chart is out of step with config/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/charts/kubescim/templates/crds
[ -d "$root/charts/kubescim" ] || exit 0
mkdir -p "$out"
rm -f "$out"/*.yaml
for f in "$root"/config/crd/bases/*.yaml; do
  name=$(basename "$f")
  {
    echo "{{- if .Values.crds.install }}"
    # Keep CRDs (and so every ScimUser) when the release is uninstalled, unless asked otherwise.
    sed -e '/^  annotations:/a\    {{- if .Values.crds.keep }}\n    helm.sh/resource-policy: keep\n    {{- end }}' "$f"
    echo "{{- end }}"
  } >"$out/$name"
done
