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
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// TestKubectlScimOnADevCluster builds kubescim and the kubectl-scim plugin, runs `kubescim dev`,
// and runs the plugin's three commands as kubectl would (kubectl-scim on PATH), asserting their
// output and exit codes.
func TestKubectlScimOnADevCluster(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run KUBEBUILDER_ASSETS=$(hack/setup-envtest.sh) go test ./hack/e2e/")
	}
	tmp := t.TempDir()
	for pkg, out := range map[string]string{".": "kubescim", "./cmd/kubectl-scim": "kubectl-scim"} {
		build := exec.CommandContext(t.Context(), "go", "build", "-o", filepath.Join(tmp, out), pkg)
		build.Dir = root
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", out, err, b)
		}
	}
	dev := startDev(t, root, filepath.Join(tmp, "kubescim"), filepath.Join(tmp, ".dev"))
	kubeconfig := filepath.Join(dev.dir, "kubeconfig")
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(cfg, client.Options{Scheme: adminScheme(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	create := func(o client.Object) {
		t.Helper()
		if err := admin.Create(ctx, o); err != nil {
			t.Fatalf("creating %s: %v", o.GetName(), err)
		}
	}
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "plugin-a"}})
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "plugin-b"}})
	create(&scimv1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: "plugin-devs"}, Spec: scimv1.ScimGroupSpec{DisplayName: "plugin-devs"}})
	create(&scimv1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: "plugin-oncall"},
		Spec: scimv1.ScimGroupSpec{DisplayName: "plugin-oncall", MemberOf: []string{"plugin-devs"}}})
	for name, u := range map[string]scimv1.ScimUserSpec{
		"plugin-ann": {UserName: "plugin-ann", Active: ptr.To(true), MemberOf: []string{"plugin-devs"}},
		"plugin-ben": {UserName: "plugin-ben", Active: ptr.To(true), MemberOf: []string{"plugin-oncall"}},
		"plugin-cid": {UserName: "plugin-cid", Active: ptr.To(false), MemberOf: []string{"plugin-devs"}},
	} {
		create(&scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: u})
	}
	create(&scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: "plugin-view"}, Spec: scimv1.ScimGroupBindingSpec{
		Group: "plugin-devs", RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "view"}, Namespaces: []string{"plugin-a"}}})
	waitFor(t, "plugin-view in effect", accessTimeout, func() bool {
		var rb rbacv1.RoleBinding
		return admin.Get(ctx, client.ObjectKey{Namespace: "plugin-a", Name: "kubescim-plugin-view"}, &rb) == nil && len(rb.Subjects) == 2
	})

	env := append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+tmp+string(os.PathListSeparator)+os.Getenv("PATH"))
	plugin := func(stdin string, args ...string) (string, int) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, "kubectl", append([]string{"scim"}, args...)...)
		cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return string(out), 0
		case errors.As(err, &exit):
			return string(out), exit.ExitCode()
		}
		t.Fatalf("kubectl scim %v: %v\n%s", args, err, out)
		return "", 0
	}
	expect := func(what, out string, code, wantCode int, want ...string) {
		t.Helper()
		if code != wantCode {
			t.Errorf("%s: exit %d, want %d\n%s", what, code, wantCode, out)
		}
		for _, w := range want {
			if !strings.Contains(strings.Join(strings.Fields(out), " "), w) {
				t.Errorf("%s: output lacks %q:\n%s", what, w, out)
			}
		}
	}

	out, code := plugin("", "access", "plugin-ben")
	expect("access of a nested member", out, code, 0, "plugin-a ClusterRole/view plugin-view plugin-devs plugin-oncall > plugin-devs")
	out, code = plugin("", "access", "plugin-cid", "-o", "json")
	expect("access of an inactive user", out, code, 0, `"active": false`, "inactive", `"grants": []`)
	out, code = plugin("", "access", "plugin-nobody")
	expect("access of an unknown user", out, code, 2, "not found")

	out, code = plugin("", "members", "plugin-devs")
	expect("members", out, code, 0, "3 users, 1 nested groups", "User plugin-ann plugin-ann active direct plugin-devs",
		"User plugin-ben plugin-ben active nested plugin-oncall",
		"User plugin-cid plugin-cid inactive direct plugin-devs", "Group plugin-oncall plugin-oncall - direct plugin-devs")
	out, code = plugin("", "members", "plugin-nogroup")
	expect("members of an unknown group", out, code, 2)

	binding := func(namespace, role string) string {
		return fmt.Sprintf("apiVersion: scim.kubescim.io/v1alpha1\nkind: ScimGroupBinding\nmetadata:\n  name: plugin-view\n"+
			"spec:\n  group: plugin-devs\n  roleRef: {kind: ClusterRole, name: %s}\n  namespaces: [%s]\n", role, namespace)
	}
	out, code = plugin(binding("plugin-a", "view"), "preview", "-f", "-")
	expect("preview of the binding as it is", out, code, 0, "0 to grant, 0 to revoke, 2 unchanged", "No change.")
	out, code = plugin(binding("plugin-b", "view"), "preview", "-f", "-")
	expect("preview of a move", out, code, 3, "2 to grant, 2 to revoke",
		"grant plugin-b ClusterRole/view User/plugin-ann plugin-ann", "revoke plugin-a ClusterRole/view User/plugin-ben plugin-ben")
	out, code = plugin(binding("plugin-a", "cluster-admin"), "preview", "-f", "-", "-o", "yaml")
	expect("preview of a refused role", out, code, 4, "reason: RoleNotAllowed", "grant: []")

	// Nothing was written: the binding's RoleBindings are as the controllers left them.
	var rbs rbacv1.RoleBindingList
	if err := admin.List(ctx, &rbs, client.MatchingLabels{scimv1.BindingLabel: "plugin-view"}); err != nil {
		t.Fatal(err)
	}
	if len(rbs.Items) != 1 || rbs.Items[0].Namespace != "plugin-a" || rbs.Items[0].RoleRef.Name != "view" {
		t.Errorf("RoleBindings of plugin-view changed: %+v", rbs.Items)
	}
	dev.stop(t)
}
