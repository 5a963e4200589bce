#!/usr/bin/env bash
# Builds the control-plane binaries that envtest and `kubescim dev` need (kube-apiserver, etcd,
# kube-controller-manager) from the Go module proxy, once, into bin/k8s/<version>/, and prints
# that directory. No prebuilt downloads: this machine reaches only the module proxy.
# KUBEBUILDER_ASSETS, when set, wins and nothing is built.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.35.4}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${ENVTEST_BIN_DIR:-$root/bin/k8s/v$K8S_VERSION}

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi
if [ -x "$dest/kube-apiserver" ] && [ -x "$dest/etcd" ] && [ -x "$dest/kube-controller-manager" ]; then
  echo "$dest"
  exit 0
fi

log() { echo "setup-envtest: $*" >&2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0

# kube-apiserver and kube-controller-manager: k8s.io/kubernetes replaces its staging modules with
# local paths, which a dependent module cannot follow, so pin each to the matching v0.x release.
k8s_mod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
minor=${K8S_VERSION#*.}
mkdir -p "$work/k8s" "$work/etcd"
{
  echo "module kubescim.local/k8s-bins"
  echo "go 1.24"
  echo "require k8s.io/kubernetes v$K8S_VERSION"
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#replace \1 => \1 v0.'"$minor"'#p' "$k8s_mod"
} >"$work/k8s/go.mod"
cat >"$work/k8s/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
GO
major=${K8S_VERSION%%.*}
kminor=${minor%%.*}
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION \
 -X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$kminor \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
log "building kube-apiserver and kube-controller-manager v$K8S_VERSION (a few minutes, once)"
(cd "$work/k8s" && go mod tidy >&2 && go build -trimpath -ldflags "$ldflags" -o "$work/out/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager >&2)

cat >"$work/etcd/go.mod" <<MOD
module kubescim.local/etcd-bin
go 1.24
require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v$ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 v$ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 v$ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 v$ETCD_VERSION
)
MOD
cat >"$work/etcd/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
log "building etcd v$ETCD_VERSION"
(cd "$work/etcd" && go mod tidy >&2 && go build -trimpath -ldflags "-s -w" -o "$work/out/etcd" go.etcd.io/etcd/server/v3 >&2)

mv "$work/out/kube-apiserver" "$work/out/kube-controller-manager" "$work/out/etcd" "$dest/"
log "installed into $dest"
echo "$dest"
