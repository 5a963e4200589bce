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
	"path/filepath"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/hack/devcluster"
)

// singleDeploymentChart is the chart before the components ran apart (0.1.0, packaged from it).
const singleDeploymentChart = "testdata/kubescim-0.1.0.tgz"

// TestChartUpgradesFromTheSingleDeployment installs the single-Deployment chart, runs its pod
// (SCIM and controllers in one process, as its ServiceAccount), and upgrades to this chart with
// a plain `helm upgrade`: the SCIM Deployment is updated in place (same object, same selector),
// the old pod keeps serving SCIM through the rollout, the old pod's controllers lose their RBAC,
// the new controllers take the Lease over, and the next change is reconciled by them.
func TestChartUpgradesFromTheSingleDeployment(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tmp := t.TempDir()
	binary := buildKubescim(t, root, tmp)
	cluster, err := devcluster.Start(ctx, devcluster.Options{Dir: filepath.Join(tmp, "cluster"), ControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	admin := adminClient(t, cluster)
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	helm := func(args ...string) error { return runHelm(t, root, cluster.KubeconfigPath, args...) }
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: chartTeam}}); err != nil {
		t.Fatal(err)
	}
	if err := helm("install", chartRelease, singleDeploymentChart, "--namespace", chartNamespace, "--create-namespace"); err != nil {
		t.Fatal(err)
	}

	var before appsv1.Deployment
	if err := admin.Get(ctx, client.ObjectKey{Namespace: chartNamespace, Name: chartRelease}, &before); err != nil {
		t.Fatal(err)
	}
	oldID := mintIdentity(t, cluster, cs, chartNamespace, before.Spec.Template.Spec.ServiceAccountName)
	// The old chart left the Lease namespace to the pod's namespace file, which only exists in
	// a pod: the flag stands in for it.
	oldPod := before.Spec.Template.Spec.DeepCopy()
	oldPod.Containers[0].Args = append(oldPod.Containers[0].Args, "--leader-election-namespace="+chartNamespace)
	old := podProcess(t, binary, "single-deployment", *oldPod, oldID, nil)
	waitFor(t, "the single-Deployment pod ready and leading", componentsReady, func() bool { return old.ready() && old.leading() })
	p := newIDP(string(generatedToken(t, admin)))
	alice := id(mustSucceed(t, "creating alice before the upgrade", func() answer { return p.createUser(old, "alice@upgrade.example") }))

	if err := helm("upgrade", chartRelease, filepath.Join(root, "charts", "kubescim"), "--namespace", chartNamespace); err != nil {
		t.Fatal(err)
	}
	var after appsv1.Deployment
	if err := admin.Get(ctx, client.ObjectKey{Namespace: chartNamespace, Name: chartRelease}, &after); err != nil {
		t.Fatal(err)
	}
	if after.UID != before.UID {
		t.Error("helm upgrade replaced the SCIM Deployment instead of updating it")
	}
	if !slices.Contains(after.Spec.Template.Spec.Containers[0].Args, "--components=scim") {
		t.Errorf("upgraded SCIM Deployment args %v lack --components=scim", after.Spec.Template.Spec.Containers[0].Args)
	}
	if err := admin.Get(ctx, client.ObjectKey{Name: chartRelease + "-manager"}, &rbacv1.ClusterRole{}); !apierrors.IsNotFound(err) {
		t.Errorf("the single-Deployment chart's ClusterRole is still there after the upgrade: %v", err)
	}

	// The old pod's ServiceAccount is the front end's now: it keeps serving SCIM.
	bob := id(mustSucceed(t, "creating bob on the old pod after the upgrade", func() answer { return p.createUser(old, "bob@upgrade.example") }))
	ctl, _ := runDeployment(t, cluster, cs, admin, binary, chartRelease+"-controller")
	start := time.Now()
	waitFor(t, "the new controllers leading", componentsReady, ctl.leading)
	t.Logf("The new controllers took the Lease over %s after they started", time.Since(start).Round(100*time.Millisecond))
	if err := admin.Create(ctx, &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: "upgrade-developers"},
		Spec: scimv1.ScimGroupBindingSpec{Group: "Upgrade Developers", RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "edit"},
			Namespaces: []string{chartTeam}}}); err != nil {
		t.Fatal(err)
	}
	group := id(mustSucceed(t, "creating the group", func() answer { return p.createGroup(old, "Upgrade Developers") }))
	for _, user := range []string{alice, bob} {
		mustSucceed(t, "adding a member", func() answer { return p.addMember(old, group, user) })
	}
	expectAccess(t, admin, "alice@upgrade.example", true)
	expectAccess(t, admin, "bob@upgrade.example", true)
}
