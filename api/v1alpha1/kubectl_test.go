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
	"os/exec"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// TestKubectlGetIsAnAuditView runs the real kubectl against the test API server: the printer
// columns are what an auditor sees.
func TestKubectlGetIsAnAuditView(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is required on PATH for this test: %v", err)
	}
	c := ctx(t)
	u := &scimv1alpha1.ScimUser{
		ObjectMeta: metav1.ObjectMeta{Name: scimv1alpha1.ObjectNameFor("Audit.Person@example.com")},
		Spec: scimv1alpha1.ScimUserSpec{
			UserName:    "Audit.Person@example.com",
			DisplayName: "Audit Person",
			ExternalID:  "00u-audit",
			Active:      ptr.To(false),
		},
	}
	if err := k8sClient.Create(c, u); err != nil {
		t.Fatal(err)
	}
	g := &scimv1alpha1.ScimGroup{
		ObjectMeta: metav1.ObjectMeta{Name: scimv1alpha1.ObjectNameFor("Auditors")},
		Spec:       scimv1alpha1.ScimGroupSpec{DisplayName: "Auditors"},
	}
	if err := k8sClient.Create(c, g); err != nil {
		t.Fatal(err)
	}
	b := &scimv1alpha1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "auditors-view"},
		Spec: scimv1alpha1.ScimGroupBindingSpec{Group: "Auditors", Scope: scimv1alpha1.ScopeCluster,
			RoleRef: scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "view"}},
	}
	if err := k8sClient.Create(c, b); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		args    []string
		header  []string
		wantRow []string
	}{
		{[]string{"get", "scimusers", u.Name}, []string{"NAME", "USERNAME", "DISPLAY NAME", "ACTIVE", "GROUPS", "READY", "AGE"},
			[]string{u.Name, "Audit.Person@example.com", "Audit Person", "false"}},
		{[]string{"get", "su", u.Name, "-o", "wide"}, []string{"EXTERNAL ID", "ACCESS"}, []string{"00u-audit"}},
		{[]string{"get", "scimgroups", g.Name}, []string{"NAME", "DISPLAY NAME", "MEMBERS", "READY", "AGE"},
			[]string{g.Name, "Auditors"}},
		{[]string{"get", "sgb", b.Name}, []string{"NAME", "GROUP", "ROLE", "NAMESPACES", "SUBJECTS", "READY", "AGE"},
			[]string{b.Name, "Auditors", "view"}},
		{[]string{"get", "scim"}, []string{"NAME"}, []string{u.Name}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := exec.CommandContext(c, kubectl, append([]string{"--kubeconfig", kubeconfigPath}, tc.args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("kubectl %v: %v\n%s", tc.args, err, out)
			}
			text := string(out)
			header := strings.SplitN(text, "\n", 2)[0]
			for _, h := range tc.header {
				if !strings.Contains(header, h) {
					t.Errorf("header %q lacks column %q", header, h)
				}
			}
			for _, v := range tc.wantRow {
				if !strings.Contains(text, v) {
					t.Errorf("output lacks %q:\n%s", v, text)
				}
			}
		})
	}
}
