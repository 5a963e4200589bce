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
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/hack/devcluster"
)

const (
	chartRelease    = "kubescim"
	chartNamespace  = "kubescim-system"
	chartUsers      = "kubescim-users"
	chartTeam       = "team-chart"
	chartGroup      = "Chart Developers"
	chartBinding    = "chart-developers"
	adoptedBinding  = "chart-adopted"
	helmBinary      = "bin/helm-v3.19.0"
	componentsReady = 2 * time.Minute
)

// chartValues are the values the test installs and upgrades with: per-user ServiceAccounts in
// a namespace the chart does not own, so the uninstall hook must delete them itself.
var chartValues = []string{"--set", "serviceAccounts.enabled=true", "--set", "serviceAccounts.createNamespace=false"}

// TestChartAsItsOwnIdentities installs the chart with the pinned Helm into a dev cluster, runs
// the SCIM front end and the controllers out of cluster as the chart's own ServiceAccounts with
// the args their Deployments give them (identity_test.go says what is replaced), and pushes SCIM
// traffic through the front end: users and a bound group appear, access is granted and revoked
// (SubjectAccessReview), the controllers write status and Events, and they adopt a RoleBinding
// an admin made under their name. The same identities are then refused what the chart must not
// let them do, by RBAC or by the chart's admission policy. `helm upgrade` keeps the generated
// token; `helm uninstall` runs the cleanup hook (the test plays the kubelet for its pod), which
// takes every grant back, and keeps the CRDs and the ScimUsers.
//
// A permission missing from the chart fails this test: the components run with nothing but
// what the chart grants their ServiceAccounts.
func TestChartAsItsOwnIdentities(t *testing.T) {
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

	// What an admin has before installing: a team namespace, the per-user ServiceAccount
	// namespace, and a RoleBinding made by hand under the name kubescim will give a binding.
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: chartTeam}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: chartUsers}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: chartTeam, Name: "kubescim-" + adoptedBinding},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"}},
	} {
		if err := admin.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	chart := filepath.Join(root, "charts", "kubescim")
	if err := helm(append([]string{"install", chartRelease, chart, "--namespace", chartNamespace, "--create-namespace"}, chartValues...)...); err != nil {
		t.Fatal(err)
	}

	front, frontID := runDeployment(t, cluster, cs, admin, binary, chartRelease)
	ctl, ctlID := runDeployment(t, cluster, cs, admin, binary, chartRelease+"-controller")
	waitFor(t, "the SCIM front end ready", componentsReady, front.ready)
	waitFor(t, "the controllers ready and leading", componentsReady, func() bool { return ctl.ready() && ctl.leading() })
	if front.leading() {
		t.Error("the SCIM front end takes part in leader election")
	}

	for _, b := range []string{chartBinding, adoptedBinding} {
		if err := admin.Create(ctx, &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: b},
			Spec: scimv1.ScimGroupBindingSpec{Group: chartGroup, RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "edit"},
				Namespaces: []string{chartTeam}}}); err != nil {
			t.Fatal(err)
		}
	}
	tokenBefore := generatedToken(t, admin)
	p := newIDP(string(tokenBefore))
	alice := id(mustSucceed(t, "creating alice", func() answer { return p.createUser(front, "alice@chart.example") }))
	bob := id(mustSucceed(t, "creating bob", func() answer { return p.createUser(front, "bob@chart.example") }))
	group := id(mustSucceed(t, "creating the group", func() answer { return p.createGroup(front, chartGroup) }))
	for _, user := range []string{alice, bob} {
		mustSucceed(t, "adding a member", func() answer { return p.addMember(front, group, user) })
	}

	t.Log("Access follows the IdP, as the chart's identities write it")
	for _, user := range []string{"alice@chart.example", "bob@chart.example", saUser("alice@chart.example")} {
		expectAccess(t, admin, user, true)
	}
	var binding scimv1.ScimGroupBinding
	waitFor(t, "the binding Ready", eventually, func() bool {
		return admin.Get(ctx, client.ObjectKey{Name: chartBinding}, &binding) == nil &&
			meta.IsStatusConditionTrue(binding.Status.Conditions, scimv1.ReadyCondition)
	})
	var user scimv1.ScimUser
	waitFor(t, "alice's status to show the grant", eventually, func() bool {
		return admin.Get(ctx, client.ObjectKey{Name: scimv1.ObjectNameFor("alice@chart.example")}, &user) == nil &&
			meta.IsStatusConditionTrue(user.Status.Conditions, scimv1.ReadyCondition) && len(user.Status.Access) > 0
	})
	waitFor(t, "an AccessGranted Event on the binding", eventually, func() bool { return hasEvent(t, admin, chartBinding, "AccessGranted") })
	var adopted rbacv1.RoleBinding
	waitFor(t, "the admin's RoleBinding adopted", eventually, func() bool {
		return admin.Get(ctx, client.ObjectKey{Namespace: chartTeam, Name: "kubescim-" + adoptedBinding}, &adopted) == nil &&
			adopted.Labels[scimv1.ManagedByLabel] == scimv1.ManagedByValue && len(adopted.OwnerReferences) == 1 &&
			adopted.OwnerReferences[0].Name == adoptedBinding && len(adopted.Subjects) > 0
	})

	mustSucceed(t, "deactivating alice", func() answer { return p.setActive(front, alice, false) })
	expectAccess(t, admin, "alice@chart.example", false)
	expectAccess(t, admin, saUser("alice@chart.example"), false)
	expectAccess(t, admin, "bob@chart.example", true)

	t.Log("The SCIM front end's identity holds no RBAC power")
	scimClient := frontID.client(t)
	expectForbidden(t, "the front end creating a RoleBinding", "", scimClient.Create(ctx, managedRoleBinding("by-front-end", "edit")))
	expectForbidden(t, "the front end listing Secrets", "", scimClient.List(ctx, &corev1.SecretList{}, client.InNamespace(chartNamespace)))
	expectForbidden(t, "the front end binding cluster-admin", "", scimClient.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "front-end-admin"}, Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "mallory"}},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}}))
	expectForbidden(t, "the front end creating a ServiceAccount", "", scimClient.Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: chartUsers, Name: "by-front-end"}}))
	expectForbidden(t, "the front end writing a ScimUser's status", "", scimClient.Status().Update(ctx, &user))

	t.Log("The controllers' identity writes only kubescim's RBAC objects and binds only the bindable roles")
	ctlClient := ctlID.client(t)
	expectForbidden(t, "the controllers binding cluster-admin", "not currently held",
		ctlClient.Create(ctx, managedRoleBinding("controller-admin", "cluster-admin")))
	expectForbidden(t, "the controllers binding their own ClusterRole", "may only bind the roles in rbac.bindableRoles",
		ctlClient.Create(ctx, managedRoleBinding("controller-self", chartRelease+"-controller")))
	expectForbidden(t, "the controllers deleting cluster-admin's ClusterRoleBinding", "not labelled",
		ctlClient.Delete(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "cluster-admin"}}))
	unlabelled := managedRoleBinding("unlabelled", "edit")
	unlabelled.Labels = nil
	expectForbidden(t, "the controllers creating an unlabelled RoleBinding", "may only write", ctlClient.Create(ctx, unlabelled))
	var managed rbacv1.RoleBinding
	if err := admin.Get(ctx, client.ObjectKey{Namespace: chartTeam, Name: "kubescim-" + chartBinding}, &managed); err != nil {
		t.Fatal(err)
	}
	delete(managed.Labels, scimv1.ManagedByLabel)
	expectForbidden(t, "the controllers removing the managed-by label", "never remove", ctlClient.Update(ctx, &managed))
	expectForbidden(t, "the controllers creating a ServiceAccount outside their namespace", "", ctlClient.Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "by-controllers", Labels: managedRoleBinding("", "").Labels}}))
	// The controllers cache slim ScimUsers (controllers.SlimUser): a spec write from one must be
	// refused, never lose the attributes it lacks.
	expectForbidden(t, "the controllers writing a ScimUser", "", ctlClient.Update(ctx, user.DeepCopy()))
	expectForbidden(t, "the controllers reading the token Secret", "", ctlClient.Get(ctx,
		client.ObjectKey{Namespace: chartNamespace, Name: chartRelease + "-scim-token"}, &corev1.Secret{}))
	if err := admin.Get(ctx, client.ObjectKey{Name: "cluster-admin"}, &rbacv1.ClusterRoleBinding{}); err != nil {
		t.Errorf("cluster-admin's ClusterRoleBinding: %v", err)
	}

	t.Log("helm upgrade keeps the generated token")
	if err := helm(append([]string{"upgrade", chartRelease, chart, "--namespace", chartNamespace}, chartValues...)...); err != nil {
		t.Fatal(err)
	}
	if tokenAfter := generatedToken(t, admin); !bytes.Equal(tokenAfter, tokenBefore) {
		t.Error("helm upgrade replaced the generated SCIM token; IdPs would lose access")
	}

	t.Log("helm uninstall takes every grant back and keeps the CRDs and the ScimUsers")
	uninstallWithHook(t, cluster, cs, admin, binary, helm, front, ctl)
	for _, crd := range []string{"scimusers", "scimgroups", "scimgroupbindings"} {
		var obj metav1.PartialObjectMetadata
		obj.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
		if err := admin.Get(ctx, client.ObjectKey{Name: crd + "." + scimv1.GroupVersion.Group}, &obj); err != nil {
			t.Errorf("CRD %s after uninstall: %v", crd, err)
		}
	}
	if err := admin.Get(ctx, client.ObjectKey{Name: scimv1.ObjectNameFor("bob@chart.example")}, &scimv1.ScimUser{}); err != nil {
		t.Errorf("ScimUser of bob after uninstall: %v", err)
	}
	expectAccess(t, admin, "bob@chart.example", false)
	var left rbacv1.RoleBindingList
	if err := admin.List(ctx, &left, client.MatchingLabels{scimv1.ManagedByLabel: scimv1.ManagedByValue}); err != nil {
		t.Fatal(err)
	}
	var sas corev1.ServiceAccountList
	if err := admin.List(ctx, &sas, client.InNamespace(chartUsers), client.MatchingLabels{scimv1.ManagedByLabel: scimv1.ManagedByValue}); err != nil {
		t.Fatal(err)
	}
	if len(left.Items) > 0 || len(sas.Items) > 0 {
		t.Errorf("after uninstall %d managed RoleBindings and %d per-user ServiceAccounts are left", len(left.Items), len(sas.Items))
	}
}

// runDeployment runs the pod of Deployment name as its ServiceAccount.
func runDeployment(t *testing.T, cluster *devcluster.Cluster, cs kubernetes.Interface, admin client.Client, binary, name string) (*replica, identity) {
	t.Helper()
	var d appsv1.Deployment
	if err := admin.Get(t.Context(), client.ObjectKey{Namespace: chartNamespace, Name: name}, &d); err != nil {
		t.Fatal(err)
	}
	id := mintIdentity(t, cluster, cs, chartNamespace, d.Spec.Template.Spec.ServiceAccountName)
	return podProcess(t, binary, name, d.Spec.Template.Spec, id, secretMounts(t, cs, chartNamespace, d.Spec.Template.Spec)), id
}

// uninstallWithHook runs helm uninstall and plays the cluster's part meanwhile: it stops each
// component once its Deployment is gone (the kubelet's SIGTERM), then runs the cleanup hook
// Job's pod as its ServiceAccount and reports the pod succeeded, which lets helm finish.
func uninstallWithHook(t *testing.T, cluster *devcluster.Cluster, cs kubernetes.Interface, admin client.Client,
	binary string, helm func(...string) error, front, ctl *replica) {
	t.Helper()
	ctx := t.Context()
	done := make(chan error, 1)
	go func() { done <- helm("uninstall", chartRelease, "--namespace", chartNamespace, "--timeout", "3m") }()
	for name, r := range map[string]*replica{chartRelease: front, chartRelease + "-controller": ctl} {
		waitFor(t, "Deployment "+name+" deleted", eventually, func() bool {
			return apierrors.IsNotFound(admin.Get(ctx, client.ObjectKey{Namespace: chartNamespace, Name: name}, &appsv1.Deployment{}))
		})
		r.terminate(35 * time.Second) // the chart's terminationGracePeriodSeconds
	}
	var pod corev1.Pod
	waitFor(t, "the cleanup hook's pod", eventually, func() bool {
		var pods corev1.PodList
		if err := admin.List(ctx, &pods, client.InNamespace(chartNamespace), client.MatchingLabels{"app.kubernetes.io/component": "cleanup"}); err != nil || len(pods.Items) == 0 {
			return false
		}
		pod = pods.Items[0]
		return true
	})
	id := mintIdentity(t, cluster, cs, chartNamespace, pod.Spec.ServiceAccountName)
	out := runToCompletion(t, binary, pod.Spec.Containers[0], id)
	if !strings.Contains(out, `"kind":"RoleBinding","count":2`) {
		t.Errorf("kubescim cleanup did not report deleting both managed RoleBindings:\n%s", out)
	}
	now := metav1.Now()
	pod.Status.Phase = corev1.PodSucceeded
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: pod.Spec.Containers[0].Name, Image: pod.Spec.Containers[0].Image,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now}}}}
	if err := admin.Status().Update(ctx, &pod); err != nil {
		t.Fatalf("reporting the cleanup pod succeeded: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("helm uninstall did not finish within 3m of the cleanup hook succeeding")
	}
}

// generatedToken reads the token the chart generated.
func generatedToken(t *testing.T, admin client.Client) []byte {
	t.Helper()
	var s corev1.Secret
	if err := admin.Get(t.Context(), client.ObjectKey{Namespace: chartNamespace, Name: chartRelease + "-scim-token"}, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Data["idp"]) == 0 {
		t.Fatalf("the generated token Secret has no idp token: %v", s.Data)
	}
	return s.Data["idp"]
}

// saUser is the username of userName's per-user ServiceAccount.
func saUser(userName string) string {
	return "system:serviceaccount:" + chartUsers + ":" + scimv1.ObjectNameFor(userName)
}

// expectAccess waits until the API server's authorizer says whether user may create
// Deployments in the team namespace.
func expectAccess(t *testing.T, admin client.Client, user string, want bool) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s may create deployments in %s: %v", user, chartTeam, want), accessTimeout, func() bool {
		got, err := canI(t.Context(), admin, user, "create", "apps", "deployments", chartTeam)
		if err != nil {
			t.Fatal(err)
		}
		return got == want
	})
}

// managedRoleBinding is a RoleBinding in the team namespace as kubescim labels them.
func managedRoleBinding(name, clusterRole string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: chartTeam, Name: "kubescim-" + name,
			Labels: map[string]string{scimv1.ManagedByLabel: scimv1.ManagedByValue, scimv1.BindingLabel: name}},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory"}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
	}
}

// expectForbidden fails unless err is the API server's 403 whose message contains want.
func expectForbidden(t *testing.T, what, want string, err error) {
	t.Helper()
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: %v, want 403 Forbidden mentioning %q", what, err, want)
	}
}

// hasEvent reports whether an events.k8s.io Event of reason is about the object named regarding.
func hasEvent(t *testing.T, admin client.Client, regarding, reason string) bool {
	var events eventsv1.EventList
	if err := admin.List(t.Context(), &events); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		if e.Regarding.Name == regarding && e.Reason == reason {
			return true
		}
	}
	return false
}

// runHelm runs the pinned helm against the dev cluster, with its cache and config kept out of
// the user's home directory.
func runHelm(t *testing.T, root, kubeconfig string, args ...string) error {
	t.Helper()
	bin := filepath.Join(root, helmBinary)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: run make helm", bin)
	}
	home := t.TempDir()
	cmd := exec.CommandContext(t.Context(), bin, append(args, "--kubeconfig", kubeconfig)...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config", "HELM_DATA_HOME="+home+"/data")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
