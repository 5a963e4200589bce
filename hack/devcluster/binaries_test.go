/*
Copyright 2026 The kubescim Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package devcluster_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kubescim/kubescim/hack/devcluster"
)

// `kubescim dev` run directly finds what hack/setup-envtest.sh built, from the repository root,
// from below it, or from the binary's bin/ directory.
func TestFindBinaries(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", "")
	root := t.TempDir()
	bins := filepath.Join(root, "bin", "k8s", "v"+devcluster.KubernetesVersion)
	if err := os.MkdirAll(bins, 0o755); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "hack", "e2e")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if err := os.WriteFile(filepath.Join(bins, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err := devcluster.FindBinaries(root)
	if err == nil || !strings.Contains(err.Error(), "hack/setup-envtest.sh") {
		t.Fatalf("with kube-controller-manager missing: %v, want an error saying to run hack/setup-envtest.sh", err)
	}
	if err := os.WriteFile(filepath.Join(bins, "kube-controller-manager"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{root, sub, filepath.Join(root, "bin")} {
		got, err := devcluster.FindBinaries(t.TempDir(), from)
		if err != nil || got != bins {
			t.Errorf("from %s: %q, %v; want %q", from, got, err, bins)
		}
	}
	t.Setenv("KUBEBUILDER_ASSETS", "/opt/k8s")
	if got, err := devcluster.FindBinaries(root); err != nil || got != "/opt/k8s" {
		t.Errorf("with KUBEBUILDER_ASSETS set: %q, %v; want it to win", got, err)
	}
}

func TestKubernetesVersionIsWhatSetupEnvtestBuilds(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "setup-envtest.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`K8S_VERSION=\$\{K8S_VERSION:-([0-9.]+)\}`).FindSubmatch(script)
	if m == nil || string(m[1]) != devcluster.KubernetesVersion {
		t.Errorf("hack/setup-envtest.sh builds %q, devcluster.KubernetesVersion is %q", m, devcluster.KubernetesVersion)
	}
}
