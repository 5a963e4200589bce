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

package v1alpha1

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestScimID(t *testing.T) {
	const uid, id = "0b6f2c1e-4f0a-4d8e-9d43-6f7c5a1b2c3d", "7d9e0c2a-1b3f-4e5d-8a6b-9c0d1e2f3a4b"
	cases := []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"made by SCIM", map[string]string{IDLabel: id}, id},
		{"made with kubectl", nil, uid},
		{"label not a UUID", map[string]string{IDLabel: "alice"}, uid},
		{"label not canonical", map[string]string{IDLabel: "7D9E0C2A-1B3F-4E5D-8A6B-9C0D1E2F3A4B"}, uid},
		{"label empty", map[string]string{IDLabel: ""}, uid},
	}
	for _, c := range cases {
		u := &ScimUser{ObjectMeta: metav1.ObjectMeta{UID: uid, Labels: c.labels}}
		if got := ScimID(u); got != c.want {
			t.Errorf("%s: ScimID = %q, want %q", c.name, got, c.want)
		}
	}
}
