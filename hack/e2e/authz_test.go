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
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
	"github.com/kubescim/kubescim/controllers/authz"
	"github.com/kubescim/kubescim/hack/devcluster"
)

// authzRole is a ClusterRole with rules, so that no kube-controller-manager is needed to fill
// the aggregated ones.
const authzRole = "kubescim-authz-e2e-reader"

// authzEnv is a dev cluster whose API server may ask kubescim's authorization webhook before
// RBAC, with the webhook and the controllers in managers of their own, so a test can stop the
// controllers and see what the webhook alone decides.
type authzEnv struct {
	cluster *devcluster.Cluster
	k8s     client.Client
	opts    controllers.Options
	addr    string // the webhook's address; "" without the webhook
}

// startAuthzEnv starts the dev cluster, with its API server configured for the webhook when
// webhook is set, and creates authzRole and the ServiceAccount namespace.
func startAuthzEnv(t testing.TB, webhook bool, opts controllers.Options) *authzEnv {
	t.Helper()
	ctrl.SetLogger(logr.Discard())
	klog.SetLogger(logr.Discard()) // client-go's event broadcaster complains when a manager stops
	opts.BindableRoles = []controllers.RoleName{{Kind: "ClusterRole", Name: authzRole}}
	if opts.ServiceAccounts && opts.ServiceAccountNamespace == "" {
		opts.ServiceAccountNamespace = controllers.DefaultServiceAccountNamespace
	}
	e := &authzEnv{opts: opts}
	dir := t.TempDir()
	// KUBESCIM_AUTHZ_DEBUG_DIR keeps the cluster's files, kube-apiserver.log and the webhook's
	// configuration among them, for a look afterwards.
	if d := os.Getenv("KUBESCIM_AUTHZ_DEBUG_DIR"); d != "" {
		dir = d
	}
	devOpts := devcluster.Options{Dir: dir, CRDDirs: []string{"../../config/crd/bases"}}
	if webhook {
		e.addr = freeAddr(t)
		devOpts.AuthzWebhook = &devcluster.AuthzWebhook{Address: e.addr, MatchCondition: authz.MatchCondition(opts)}
	}
	cluster, err := devcluster.Start(context.Background(), devOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	e.cluster = cluster
	if e.k8s, err = client.New(cluster.Config, client.Options{Scheme: authzScheme(t)}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	objs := []client.Object{&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: authzRole},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}}}}
	if opts.ServiceAccounts {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opts.ServiceAccountNamespace}})
	}
	for _, o := range objs {
		if err := e.k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func authzScheme(t testing.TB) *runtime.Scheme {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := scimv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return scheme
}

// startManager starts a manager with kubescim's cache layout; add wires the components.
// The returned stop ends it (also at cleanup).
func (e *authzEnv) startManager(t testing.TB, add func(manager.Manager) error) (stop func()) {
	t.Helper()
	mgr, err := ctrl.NewManager(e.cluster.Config, ctrl.Options{
		Scheme:                 authzScheme(t),
		Cache:                  cache.Options{ByObject: controllers.CacheByObject(e.opts)},
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
	if err := add(mgr); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}
	// Registered after the cluster's cleanup, so it runs first.
	t.Cleanup(stop)
	return stop
}

// startControllers runs the controllers.
func (e *authzEnv) startControllers(t testing.TB) (stop func()) {
	return e.startManager(t, func(mgr manager.Manager) error { return controllers.SetupWithManager(mgr, e.opts) })
}

// startWebhook runs the webhook alone: controllers.New only registers the indexes and
// informers it reads, and the controllers themselves never run in this manager.
func (e *authzEnv) startWebhook(t testing.TB) {
	e.startManager(t, func(mgr manager.Manager) error { return e.addWebhook(mgr, false) })
}

func (e *authzEnv) addWebhook(mgr manager.Manager, withControllers bool) error {
	ctrls, err := controllers.New(mgr, e.opts)
	if err != nil {
		return err
	}
	if withControllers {
		if err := mgr.Add(manager.RunnableFunc(ctrls.Run)); err != nil {
			return err
		}
	}
	files := e.cluster.AuthzWebhook
	w, err := authz.New(mgr, authz.Options{BindAddress: e.addr, TLSCertFile: files.CertFile, TLSKeyFile: files.KeyFile,
		ClientCAFile: files.ClientCAFile, Access: e.opts})
	if err != nil {
		return err
	}
	return mgr.Add(w)
}

// review asks the API server's authorizer whether user (in groups) may list pods in namespace.
func (e *authzEnv) review(ctx context.Context, user, namespace string, groups ...string) (authorizationv1.SubjectAccessReviewStatus, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: "list", Resource: "pods"},
	}}
	if err := e.k8s.Create(ctx, sar); err != nil {
		return authorizationv1.SubjectAccessReviewStatus{}, err
	}
	return sar.Status, nil
}

// verdict is a review's outcome: "allowed", "denied by kubescim" or "not allowed" (no opinion
// from the webhook, nothing in RBAC).
func (e *authzEnv) verdict(ctx context.Context, user, namespace string, groups ...string) func() (string, error) {
	return func() (string, error) {
		s, err := e.review(ctx, user, namespace, groups...)
		switch {
		case err != nil:
			return "", err
		case s.Allowed:
			return "allowed", nil
		case s.Denied && strings.HasPrefix(s.Reason, "kubescim:"):
			return "denied by kubescim", nil
		}
		return "not allowed", nil
	}
}

// boundTo reports whether a managed RoleBinding in namespace names the User subject.
func (e *authzEnv) boundTo(ctx context.Context, namespace, subject string) (bool, error) {
	var list rbacv1.RoleBindingList
	if err := e.k8s.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{scimv1.ManagedByLabel: scimv1.ManagedByValue}); err != nil {
		return false, err
	}
	for _, rb := range list.Items {
		for _, s := range rb.Subjects {
			if s.Kind == rbacv1.UserKind && s.Name == subject {
				return true, nil
			}
		}
	}
	return false, nil
}

func setActive(ctx context.Context, c client.Client, u *scimv1.ScimUser, active bool) error {
	if err := c.Get(ctx, client.ObjectKeyFromObject(u), u); err != nil {
		return err
	}
	before := u.DeepCopy()
	u.Spec.Active = ptr.To(active)
	return c.Patch(ctx, u, client.MergeFrom(before))
}

// The API server asks the webhook before RBAC: a deactivated or deleted user is denied while
// the RoleBindings still grant (the controllers are stopped, so nothing else revokes), a
// reactivated one is allowed again, and admins, system identities and users kubescim does not
// manage are never affected.
func TestAuthzWebhookDeniesBeforeRBACIsRewritten(t *testing.T) {
	g := NewWithT(t)
	ctx := t.Context()
	e := startAuthzEnv(t, true, controllers.Options{SubjectPrefix: "oidc:", ServiceAccounts: true})
	e.startWebhook(t)
	stopControllers := e.startControllers(t)

	const ns = "authz-team"
	dave := &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: "dave"},
		Spec: scimv1.ScimUserSpec{UserName: "dave@example.com", Active: ptr.To(true), MemberOf: []string{"authz-devs"}}}
	const daveUser, daveSA = "oidc:dave@example.com", "system:serviceaccount:kubescim-users:dave"
	// Users kubescim does not manage, bound by hand in the same namespace.
	others := []string{"erin", "oidc:erin@example.com", "system:test-identity"}
	handMade := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hand-made"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: authzRole}}
	for _, u := range others {
		handMade.Subjects = append(handMade.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: u})
	}
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&scimv1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: "authz-devs"}, Spec: scimv1.ScimGroupSpec{DisplayName: "Authz Devs"}},
		&scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: "authz-devs"}, Spec: scimv1.ScimGroupBindingSpec{
			Group: "Authz Devs", RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: authzRole}, Namespaces: []string{ns}}},
		dave, handMade,
	} {
		g.Expect(e.k8s.Create(ctx, o)).To(Succeed())
	}
	unaffected := func(g Gomega) {
		for _, u := range others {
			g.Expect(e.verdict(ctx, u, ns)()).To(Equal("allowed"), u)
		}
		// An admin, even one whose groups include a managed user's name.
		g.Expect(e.verdict(ctx, "admin", ns, "system:masters", daveUser)()).To(Equal("allowed"))
	}
	const quickly = 5 * time.Second // the controllers are stopped: only the webhook can act

	g.Eventually(e.verdict(ctx, daveUser, ns), eventually, poll).Should(Equal("allowed"))
	g.Eventually(e.verdict(ctx, daveSA, ns), eventually, poll).Should(Equal("allowed"))
	unaffected(g)
	stopControllers()

	t.Run("deactivation denies at once, while the RoleBinding still grants", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(setActive(ctx, e.k8s, dave, false)).To(Succeed())
		g.Eventually(e.verdict(ctx, daveUser, ns), quickly, 20*time.Millisecond).Should(Equal("denied by kubescim"))
		g.Expect(e.verdict(ctx, daveSA, ns)()).To(Equal("denied by kubescim"))
		g.Expect(e.boundTo(ctx, ns, daveUser)).To(BeTrue(), "RBAC still grants: the denial is the webhook's")
		unaffected(g)
	})

	t.Run("reactivation allows again at once", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(setActive(ctx, e.k8s, dave, true)).To(Succeed())
		g.Eventually(e.verdict(ctx, daveUser, ns), quickly, 20*time.Millisecond).Should(Equal("allowed"))
		g.Expect(e.verdict(ctx, daveSA, ns)()).To(Equal("allowed"))
	})

	t.Run("a deleted user is denied while the RoleBinding still names it", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(e.k8s.Delete(ctx, dave)).To(Succeed())
		g.Eventually(e.verdict(ctx, daveUser, ns), quickly, 20*time.Millisecond).Should(Equal("denied by kubescim"))
		g.Eventually(e.verdict(ctx, daveSA, ns), quickly, 20*time.Millisecond).Should(Equal("denied by kubescim"))
		g.Expect(e.boundTo(ctx, ns, daveUser)).To(BeTrue(), "RBAC still grants: the denial is the webhook's")
		unaffected(g)
	})

	t.Run("once the controllers rewrite the RoleBinding, RBAC alone refuses", func(t *testing.T) {
		g := NewWithT(t)
		e.startControllers(t)
		g.Eventually(func() (bool, error) { return e.boundTo(ctx, ns, daveUser) }, eventually, poll).Should(BeFalse())
		g.Eventually(e.verdict(ctx, daveUser, ns), quickly, poll).Should(Equal("not allowed"))
		unaffected(g)
	})
}
