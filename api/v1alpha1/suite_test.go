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

package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// The API tests run against a real kube-apiserver and etcd, because CRD validation (OpenAPI
// bounds, enums, CEL rules) and printer columns are decided by the API server.
var (
	k8sClient      client.Client
	kubeconfigPath string
)

func TestMain(m *testing.M) {
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest (run through `make test`, which sets KUBEBUILDER_ASSETS): %v\n", err)
		os.Exit(1)
	}
	code := func() int {
		scheme := runtime.NewScheme()
		if err := clientgoscheme.AddToScheme(scheme); err != nil {
			panic(err)
		}
		if err := scimv1alpha1.AddToScheme(scheme); err != nil {
			panic(err)
		}
		if k8sClient, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
			panic(err)
		}
		dir, err := os.MkdirTemp("", "kubescim-api-test")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		kubeconfigPath = filepath.Join(dir, "kubeconfig")
		if err := os.WriteFile(kubeconfigPath, env.KubeConfig, 0o600); err != nil {
			panic(err)
		}
		return m.Run()
	}()
	if err := env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping envtest: %v\n", err)
	}
	os.Exit(code)
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return c
}
