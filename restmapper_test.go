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

package main

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// The fixed scopes must be the real ones: a wrong scope would make every read of the kind fail.
func TestKnownKindsMatchTheCRDs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs: %v", err)
	}
	mapper := knownMapper()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd struct {
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Kind   string `json:"kind"`
					Plural string `json:"plural"`
				} `json:"names"`
				Scope string `json:"scope"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(raw, &crd); err != nil {
			t.Fatal(err)
		}
		m, err := mapper.RESTMapping(schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind})
		if err != nil {
			t.Errorf("%s: %v", crd.Spec.Names.Kind, err)
			continue
		}
		want := meta.RESTScopeNameRoot
		if crd.Spec.Scope == "Namespaced" {
			want = meta.RESTScopeNameNamespace
		}
		if m.Scope.Name() != want || m.Resource.Resource != crd.Spec.Names.Plural {
			t.Errorf("%s: mapped to %s, %s; the CRD says %s, %s", crd.Spec.Names.Kind, m.Resource.Resource, m.Scope.Name(), crd.Spec.Names.Plural, crd.Spec.Scope)
		}
	}
}

// Kinds outside the table are asked of discovery.
func TestUnknownKindsFallBackToDiscovery(t *testing.T) {
	discovered := meta.NewDefaultRESTMapper(nil)
	deployments := schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	discovered.Add(deployments, meta.RESTScopeNamespace)
	m := knownFirst{RESTMapper: discovered, known: knownMapper()}
	if _, err := m.RESTMapping(deployments.GroupKind(), "v1"); err != nil {
		t.Errorf("Deployment: %v", err)
	}
	if mapping, err := m.RESTMapping(schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}); err != nil || mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		t.Errorf("RoleBinding from the table: %v, %v", mapping, err)
	}
	if _, err := m.RESTMapping(schema.GroupKind{Group: "example.com", Kind: "Nothing"}); !meta.IsNoMatchError(err) {
		t.Errorf("an unknown kind: %v, want no match", err)
	}
}
