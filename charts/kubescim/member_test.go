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

package chart_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestMemberRunsOnlyTheControllers: a fleet member has no SCIM front end, nothing the IdP could
// reach and no token, and its controllers read the hub's kubeconfig from the Secret.
func TestMemberRunsOnlyTheControllers(t *testing.T) {
	objs := render(t, append(memberValues, "ingress.enabled=true", "networkPolicy.enabled=true",
		"scim.tls.enabled=true", "scim.tls.certManager.enabled=true", "scim.tls.certManager.issuerRef.name=ca")...)
	got := kinds(objs)
	for _, absent := range []string{"Ingress", "Secret", "Certificate"} {
		if slices.Contains(got, absent) {
			t.Errorf("a member renders a %s; it serves no SCIM", absent)
		}
	}
	for _, o := range objs {
		if o.GetName() == release || o.GetName() == release+"-scim" {
			t.Errorf("a member renders the SCIM front end's %s %s", o.GetKind(), o.GetName())
		}
	}
	var ctl appsv1.Deployment
	find(t, objs, "Deployment", release+"-controller", &ctl)
	spec := ctl.Spec.Template.Spec
	var mounted bool
	for _, m := range spec.Containers[0].VolumeMounts {
		if m.MountPath == "/etc/kubescim/hub" {
			mounted = m.ReadOnly
		}
	}
	if !mounted {
		t.Errorf("the hub kubeconfig is not mounted read-only at /etc/kubescim/hub: %+v", spec.Containers[0].VolumeMounts)
	}
	var fromSecret bool
	for _, v := range spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == "hub" && len(v.Secret.Items) == 1 &&
			v.Secret.Items[0].Key == "kubeconfig" && v.Secret.Items[0].Path == "kubeconfig" {
			fromSecret = true
		}
	}
	if !fromSecret {
		t.Errorf("no volume projects key kubeconfig of Secret hub: %+v", spec.Volumes)
	}
	var binding rbacv1.ClusterRoleBinding
	find(t, objs, "ClusterRoleBinding", release+"-member", &binding)
	if binding.RoleRef.Name != release+"-member" || len(binding.Subjects) != 1 || binding.Subjects[0].Name != release+"-controller" {
		t.Errorf("member ClusterRoleBinding = %+v, want %s-member bound to the controllers' ServiceAccount only", binding, release)
	}
	for _, o := range render(t) {
		if strings.Contains(o.GetName(), "-member") || strings.Contains(o.GetName(), "mirror-guard") {
			t.Errorf("a standalone install renders the member's %s %s", o.GetKind(), o.GetName())
		}
	}
}

// TestMemberValuesAreRequired: a member that could not start is refused at install, saying why.
func TestMemberValuesAreRequired(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"mode=member", "fleet.hubKubeconfigSecret=hub"}, "mode=member needs fleet.clusterName"},
		{[]string{"mode=member", "fleet.clusterName=prod-eu"}, "mode=member needs fleet.hubKubeconfigSecret"},
		{append(memberValues, "components.combined=true"), "components.combined must be false"},
	} {
		args := []string{"template", release, ".", "--kube-version", kubeVersion}
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		out, err := helm(t, args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("--set %v: err %v, want a failure saying %q:\n%s", tc.set, err, tc.want, out)
		}
	}
}

// TestMirroredCopiesPolicy checks the rendered policy; apiserver_test.go proves on a real API
// server that it refuses an admin's edit and lets the controllers keep the copies.
func TestMirroredCopiesPolicy(t *testing.T) {
	objs := render(t, memberValues...)
	var policy unstructured.Unstructured
	find(t, objs, "ValidatingAdmissionPolicy", release+"-mirror-guard", &policy.Object)
	if fp, _, _ := unstructured.NestedString(policy.Object, "spec", "failurePolicy"); fp != "Fail" {
		t.Errorf("failurePolicy = %q, want Fail", fp)
	}
	conds, _, _ := unstructured.NestedSlice(policy.Object, "spec", "matchConditions")
	exempt := `request.userInfo.username != "system:serviceaccount:` + namespace + `:` + release + `-controller"`
	if len(conds) != 2 || conds[0].(map[string]any)["expression"] != exempt ||
		!strings.Contains(conds[1].(map[string]any)["expression"].(string), "scim.kubescim.io/mirrored") {
		t.Errorf("mirror guard matchConditions = %v, want everyone but the controllers, on mirrored objects", conds)
	}
	var binding unstructured.Unstructured
	find(t, objs, "ValidatingAdmissionPolicyBinding", release+"-mirror-guard", &binding.Object)
	if actions, _, _ := unstructured.NestedStringSlice(binding.Object, "spec", "validationActions"); !slices.Equal(actions, []string{"Deny"}) {
		t.Errorf("validationActions = %v, want [Deny]", actions)
	}
}
