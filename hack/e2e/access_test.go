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
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
	"github.com/kubescim/kubescim/hack/devcluster"
)

const (
	eventually = 30 * time.Second
	poll       = 100 * time.Millisecond
)

// startOperator starts a dev cluster and the kubescim controllers in-process against it, and
// returns an admin client. Everything stops when the test ends.
func startOperator(t *testing.T) client.Client {
	t.Helper()
	cluster, err := devcluster.Start(t.Context(), devcluster.Options{
		Dir:               t.TempDir(),
		CRDDirs:           []string{"../../config/crd/bases"},
		ControllerManager: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := scimv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ctrl.SetLogger(logr.Discard())
	mgr, err := ctrl.NewManager(cluster.Config, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := scimv1.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	if err := controllers.SetupWithManager(mgr, controllers.Options{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	// Registered after cluster.Stop's cleanup, so it runs first: the manager stops before the
	// API server does.
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	return mgr.GetClient()
}

// canI asks the API server's authorizer whether user may verb resource in namespace.
func canI(ctx context.Context, c client.Client, user, verb, group, resource, namespace string) (bool, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: namespace, Verb: verb, Group: group, Resource: resource,
		},
	}}
	if err := c.Create(ctx, sar); err != nil {
		return false, err
	}
	return sar.Status.Allowed, nil
}

func managedRoleBindings(ctx context.Context, c client.Client, binding, namespace string) ([]rbacv1.RoleBinding, error) {
	var list rbacv1.RoleBindingList
	err := c.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{scimv1.BindingLabel: binding})
	return list.Items, err
}

func TestAccessFollowsMembershipOnADevCluster(t *testing.T) {
	g := NewWithT(t)
	ctx := t.Context()
	k8s := startOperator(t)

	const user = "bob@example.com"
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "e2e-team", Labels: map[string]string{"team": "e2e"}}}
	doomed := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "e2e-doomed"}}
	binding := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-developers"},
		Spec: scimv1.ScimGroupBindingSpec{
			Group:      "E2E Developers",
			RoleRef:    scimv1.RoleRef{Kind: "ClusterRole", Name: "edit"},
			Namespaces: []string{ns.Name, doomed.Name},
		},
	}
	group := &scimv1.ScimGroup{
		ObjectMeta: metav1.ObjectMeta{Name: scimv1.ObjectNameFor("E2E Developers")},
		Spec:       scimv1.ScimGroupSpec{DisplayName: "E2E Developers"},
	}
	bob := &scimv1.ScimUser{
		ObjectMeta: metav1.ObjectMeta{Name: scimv1.ObjectNameFor(user)},
		Spec:       scimv1.ScimUserSpec{UserName: user, Active: ptr.To(true), MemberOf: []string{group.Name}},
	}
	for _, obj := range []client.Object{ns, doomed, binding, group, bob} {
		g.Expect(k8s.Create(ctx, obj)).To(Succeed())
	}
	canCreateDeployments := func(namespace string) func() (bool, error) {
		return func() (bool, error) { return canI(ctx, k8s, user, "create", "apps", "deployments", namespace) }
	}

	t.Run("member of a group bound to edit may create deployments", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(canCreateDeployments(ns.Name), eventually, poll).Should(BeTrue())
		g.Expect(canCreateDeployments("default")()).To(BeFalse(), "access outside the bound namespaces")
	})

	t.Run("deactivation revokes access", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(bob), bob)).To(Succeed())
		before := bob.DeepCopy()
		bob.Spec.Active = ptr.To(false)
		// A patch, not an update: the controller's status writes bump the resourceVersion.
		g.Expect(k8s.Patch(ctx, bob, client.MergeFrom(before))).To(Succeed())
		g.Eventually(canCreateDeployments(ns.Name), eventually, poll).Should(BeFalse())
	})

	t.Run("reactivation restores access", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(bob), bob)).To(Succeed())
		before := bob.DeepCopy()
		bob.Spec.Active = ptr.To(true)
		// A patch, not an update: the controller's status writes bump the resourceVersion.
		g.Expect(k8s.Patch(ctx, bob, client.MergeFrom(before))).To(Succeed())
		g.Eventually(canCreateDeployments(ns.Name), eventually, poll).Should(BeTrue())
	})

	t.Run("deleting a bound namespace completes", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func() ([]rbacv1.RoleBinding, error) {
			return managedRoleBindings(ctx, k8s, binding.Name, doomed.Name)
		}, eventually, poll).ShouldNot(BeEmpty(), "a RoleBinding in the namespace to delete")
		g.Expect(k8s.Delete(ctx, doomed)).To(Succeed())
		g.Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKeyFromObject(doomed), &corev1.Namespace{})
		}, 60*time.Second, 200*time.Millisecond).Should(Satisfy(apierrors.IsNotFound))
		// The binding still serves its other namespace.
		g.Expect(canCreateDeployments(ns.Name)()).To(BeTrue())
	})

	t.Run("deleting the ScimGroupBinding removes its RoleBindings and the access", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(managedRoleBindings(ctx, k8s, binding.Name, ns.Name)).NotTo(BeEmpty())
		g.Expect(k8s.Delete(ctx, binding)).To(Succeed())
		g.Eventually(func() ([]rbacv1.RoleBinding, error) {
			return managedRoleBindings(ctx, k8s, binding.Name, ns.Name)
		}, eventually, poll).Should(BeEmpty())
		g.Expect(canCreateDeployments(ns.Name)()).To(BeFalse())
	})
}
