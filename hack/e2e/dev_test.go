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

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubescim/kubescim/hack/devcluster"
)

// withoutDefaultAssets drops KUBEBUILDER_ASSETS from env when it names the directory
// hack/setup-envtest.sh fills by default, which kubescim dev finds by itself.
func withoutDefaultAssets(env []string, root string) []string {
	def := filepath.Join(root, "bin", "k8s", "v"+devcluster.KubernetesVersion)
	var out []string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "KUBEBUILDER_ASSETS="); ok && filepath.Clean(v) == def {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// `kubescim dev` run directly, where no control-plane binaries have been built, says how to
// build them instead of asking for KUBEBUILDER_ASSETS.
func TestDevWithoutBinariesSaysHowToBuildThem(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	checkout := t.TempDir() // a checkout in which hack/setup-envtest.sh never ran
	if err := os.Symlink(filepath.Join(root, "config"), filepath.Join(checkout, "config")); err != nil {
		t.Fatal(err)
	}
	binary := buildKubescim(t, root, checkout)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "dev", "--dir", filepath.Join(checkout, ".dev"))
	cmd.Dir = checkout
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBEBUILDER_ASSETS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("kubescim dev without control-plane binaries succeeded:\n%s", out)
	}
	for _, want := range []string{"hack/setup-envtest.sh", "bin/k8s/v" + devcluster.KubernetesVersion} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kubescim dev without control-plane binaries does not mention %s:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "set KUBEBUILDER_ASSETS to the output") {
		t.Errorf("kubescim dev still asks for KUBEBUILDER_ASSETS first:\n%s", out)
	}
}
