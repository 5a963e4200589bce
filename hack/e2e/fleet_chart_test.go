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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/hack/devcluster"
)

const (
	fleetMember = "prod-eu"
	fleetGroup  = "fleet-developers"
	fleetUser   = "erin@fleet.example"
)

// TestFleetMemberChartAsItsOwnIdentity installs the chart with mode=member into a member cluster,
// with the hub kubeconfig `kubescim join` wrote in the Secret fleet.hubKubeconfigSecret, and runs
// the member's controllers out of cluster as the chart's ServiceAccount with their Deployment's
// args (the Secret's file copied locally, identity_test.go). Identities written on the hub grant
// and revoke in the member through the member's own binding; the member reports to its
// ScimMember on the hub; and the chart's mirror guard refuses the member's admin editing a copy.
func TestFleetMemberChartAsItsOwnIdentity(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tmp := t.TempDir()
	binary := buildKubescim(t, root, tmp)
	hub := startCluster(t, devcluster.Options{Dir: filepath.Join(tmp, "hub"), CRDDirs: []string{filepath.Join(root, "config", "crd", "bases")}})
	member := startCluster(t, devcluster.Options{Dir: filepath.Join(tmp, "member"), ControllerManager: true})
	hubAdmin, memberAdmin := adminClient(t, hub), adminClient(t, member)
	cs, err := kubernetes.NewForConfig(member.Config)
	if err != nil {
		t.Fatal(err)
	}

	t.Log("kubescim join on the hub; the kubeconfig it writes goes into the member's Secret")
	hubKubeconfig := filepath.Join(tmp, fleetMember+".kubeconfig")
	join := exec.CommandContext(ctx, binary, "join", fleetMember, "--output", hubKubeconfig)
	join.Env = append(os.Environ(), "KUBECONFIG="+hub.KubeconfigPath)
	if out, err := join.CombinedOutput(); err != nil {
		t.Fatalf("kubescim join: %v\n%s", err, out)
	} else if !strings.Contains(string(out), "--set mode=member") {
		t.Errorf("kubescim join does not say how to install the member with the chart:\n%s", out)
	}
	kubeconfig, err := os.ReadFile(hubKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: chartNamespace}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: chartTeam}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: chartNamespace, Name: "kubescim-hub"},
			Data: map[string][]byte{"kubeconfig": kubeconfig}},
	} {
		if err := memberAdmin.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	if err := runHelm(t, root, member.KubeconfigPath, "install", chartRelease, filepath.Join(root, "charts", "kubescim"),
		"--namespace", chartNamespace, "--set", "mode=member", "--set", "fleet.clusterName="+fleetMember,
		"--set", "fleet.hubKubeconfigSecret=kubescim-hub", "--set", "fleet.heartbeat=1s"); err != nil {
		t.Fatal(err)
	}
	ctl, _ := runDeployment(t, member, cs, memberAdmin, binary, chartRelease+"-controller")
	waitFor(t, "the member's controllers ready and leading", componentsReady, func() bool { return ctl.ready() && ctl.leading() })

	t.Log("An identity written on the hub grants in the member through the member's binding")
	if err := memberAdmin.Create(ctx, &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: chartBinding},
		Spec: scimv1.ScimGroupBindingSpec{Group: fleetGroup, RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "edit"},
			Namespaces: []string{chartTeam}}}); err != nil {
		t.Fatal(err)
	}
	stamp := map[string]string{scimv1.ChangedAtAnnotation: time.Now().UTC().Format(time.RFC3339Nano)}
	if err := hubAdmin.Create(ctx, &scimv1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: fleetGroup, Annotations: stamp},
		Spec: scimv1.ScimGroupSpec{DisplayName: fleetGroup}}); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKey{Name: scimv1.ObjectNameFor(fleetUser)}
	if err := hubAdmin.Create(ctx, &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Annotations: stamp},
		Spec: scimv1.ScimUserSpec{UserName: fleetUser, Active: ptr.To(true), MemberOf: []string{fleetGroup}}}); err != nil {
		t.Fatal(err)
	}
	expectAccess(t, memberAdmin, fleetUser, true)

	var registration scimv1.ScimMember
	waitFor(t, "the member's ScimMember on the hub connected", eventually, func() bool {
		return hubAdmin.Get(ctx, client.ObjectKey{Name: fleetMember}, &registration) == nil &&
			meta.IsStatusConditionTrue(registration.Status.Conditions, scimv1.HubConnectedCondition) &&
			registration.Status.LastContact != nil
	})

	t.Log("The member's admin cannot change a copy: the hub is its source of truth")
	var copied scimv1.ScimUser
	if err := memberAdmin.Get(ctx, key, &copied); err != nil {
		t.Fatal(err)
	}
	if copied.Labels[scimv1.MirroredLabel] != fleetMember {
		t.Fatalf("the member's copy is labelled %v, want %s=%s", copied.Labels, scimv1.MirroredLabel, fleetMember)
	}
	copied.Spec.MemberOf = append(copied.Spec.MemberOf, "admins")
	err = memberAdmin.Update(ctx, &copied)
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "change it on the hub") {
		t.Errorf("the member's admin editing a copy: %v, want refused by the chart's mirror guard", err)
	}

	t.Log("A deactivation on the hub revokes in the member")
	var u scimv1.ScimUser
	if err := hubAdmin.Get(ctx, key, &u); err != nil {
		t.Fatal(err)
	}
	u.Spec.Active = ptr.To(false)
	u.Annotations[scimv1.ChangedAtAnnotation] = time.Now().UTC().Format(time.RFC3339Nano)
	if err := hubAdmin.Update(ctx, &u); err != nil {
		t.Fatal(err)
	}
	expectAccess(t, memberAdmin, fleetUser, false)
}

// startCluster starts a dev cluster that the test's cleanup stops.
func startCluster(t *testing.T, opts devcluster.Options) *devcluster.Cluster {
	t.Helper()
	cluster, err := devcluster.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	return cluster
}
