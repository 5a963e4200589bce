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

package devcluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KubernetesVersion is the version of the control-plane binaries hack/setup-envtest.sh builds.
const KubernetesVersion = "1.35.4"

// binaries are the programs a dev cluster runs.
var binaries = []string{"kube-apiserver", "etcd", "kube-controller-manager"}

// FindBinaries returns the directory holding kube-apiserver, etcd and kube-controller-manager:
// $KUBEBUILDER_ASSETS when set, else the bin/k8s/v<KubernetesVersion> directory that
// hack/setup-envtest.sh fills, looked for in each of dirs and the directories above them (the
// repository root, found from the working directory or from the kubescim binary's bin/).
func FindBinaries(dirs ...string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	rel := filepath.Join("bin", "k8s", "v"+KubernetesVersion)
	if dir, err := FindUp(rel, dirs...); err == nil && hasBinaries(dir) {
		return dir, nil
	}
	return "", fmt.Errorf("no control-plane binaries (kube-apiserver, etcd, kube-controller-manager) in %s in or above %s: "+
		"build them once with hack/setup-envtest.sh from the repository root (a few minutes), or set KUBEBUILDER_ASSETS to a directory holding them",
		rel, strings.Join(dirs, ", "))
}

func hasBinaries(dir string) bool {
	for _, name := range binaries {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// FindUp returns the first existing path rel in one of dirs or a directory above it.
func FindUp(rel string, dirs ...string) (string, error) {
	for _, dir := range dirs {
		dir, err := filepath.Abs(dir)
		if err != nil {
			continue
		}
		for {
			path := filepath.Join(dir, rel)
			if _, err := os.Stat(path); err == nil {
				return path, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", errors.New(rel + " not found")
}
