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
package fleet

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
	"github.com/kubescim/kubescim/hack/tcpproxy"
)

// The fleet tests start their own control planes: a hub and one or two members per test, as
// a fleet has them. The hub holds identities (written here as the SCIM server would); each
// member runs the controllers and member mode, reaching the hub through a proxy the tests cut.

const (
	readerRole  = "kubescim-test-reader"
	waitTimeout = 60 * time.Second
)

var scheme = runtime.NewScheme()

func TestMain(m *testing.M) {
	verbose := os.Getenv("KUBESCIM_TEST_LOG") != ""
	ctrl.SetLogger(funcr.NewJSON(func(line string) {
		if verbose {
			fmt.Fprintln(os.Stderr, line)
		}
	}, funcr.Options{}))
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if err := scimv1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		out, err := exec.Command(filepath.Join("..", "..", "hack", "setup-envtest.sh")).Output()
		if err != nil {
			panic(err)
		}
		if err := os.Setenv("KUBEBUILDER_ASSETS", strings.TrimSpace(string(out))); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// controlPlane starts a kube-apiserver and etcd with kubescim's CRDs, stopped at the end of t.
func controlPlane(t testing.TB) (*rest.Config, client.Client) {
	t.Helper()
	_, cfg, c := controlPlaneEnv(t)
	return cfg, c
}

// controlPlaneEnv is controlPlane with its environment, for a test that stops it early.
func controlPlaneEnv(t testing.TB) (*envtest.Environment, *rest.Config, client.Client) {
	t.Helper()
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join("..", "..", "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
	env.ControlPlane.Etcd = &envtest.Etcd{}
	env.ControlPlane.Etcd.Configure().Append("unsafe-no-fsync", "true")
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	cfg.QPS, cfg.Burst = 1000, 2000
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return env, cfg, c
}

// testHub is the hub control plane, reached by members through a proxy.
type testHub struct {
	env   *envtest.Environment
	cfg   *rest.Config
	k8s   client.Client
	proxy *tcpproxy.Proxy
}

func startHub(t testing.TB) *testHub {
	env, cfg, c := controlPlaneEnv(t)
	u, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tcpproxy.New(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &testHub{env: env, cfg: cfg, k8s: c, proxy: p}
}

// stopControlPlane stops the hub's kube-apiserver and etcd for good (the proxy stays, and
// refuses): the hub is down, not cut off.
func (h *testHub) stopControlPlane(t testing.TB) {
	t.Helper()
	if err := h.env.Stop(); err != nil {
		t.Fatalf("stopping the hub: %v", err)
	}
}

// memberConfig is how a member reaches the hub: through the proxy.
func (h *testHub) memberConfig() *rest.Config {
	cfg := rest.CopyConfig(h.cfg)
	cfg.Host = "https://" + h.proxy.Addr()
	cfg.Timeout = 2 * time.Second
	return cfg
}

// testMember is a member control plane and the kubescim running against it.
type testMember struct {
	name string
	cfg  *rest.Config
	k8s  client.Client
	stop func()
}

// startMember starts a member control plane with the test role, its namespace team-a and the
// hub's ScimMember for it, then runs kubescim in member mode on it.
func startMember(t testing.TB, hub *testHub, name string, opts Options) *testMember {
	t.Helper()
	cfg, c := controlPlane(t)
	ctx := context.Background()
	for _, obj := range []client.Object{
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: readerRole},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}},
	} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	if hub != nil {
		if err := hub.k8s.Create(ctx, &scimv1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	m := &testMember{name: name, cfg: cfg, k8s: c}
	m.start(t, hub, opts)
	return m
}

// start runs kubescim in member mode until stop (or the end of t).
func (m *testMember) start(t testing.TB, hub *testHub, opts Options) {
	t.Helper()
	access := controllers.Options{BindableRoles: []controllers.RoleName{{Kind: "ClusterRole", Name: readerRole}}}
	byObject := controllers.CacheByObject(access)
	byObject[&scimv1.ScimUser{}] = cache.ByObject{Transform: controllers.SlimUser}
	mgr, err := ctrl.NewManager(m.cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: cache.Options{ByObject: byObject, DefaultTransform: cache.TransformStripManagedFields()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := scimv1.SetupIndexesFor(ctx, mgr.GetFieldIndexer(), false, true); err != nil {
		t.Fatal(err)
	}
	if err := controllers.SetupWithManager(mgr, access); err != nil {
		t.Fatal(err)
	}
	if hub != nil { // nil: a standalone cluster, for comparison
		opts.ClusterName, opts.Hub = m.name, hub.memberConfig()
		if err := Setup(mgr, opts); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stopped := false
	m.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("member %s: %v", m.name, err)
		}
	}
	t.Cleanup(m.stop)
}

// bind grants readerRole in team-a to the members of the group with this displayName.
func (m *testMember) bind(t testing.TB, group string) {
	t.Helper()
	b := &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: "read-" + strings.ToLower(group)},
		Spec: scimv1.ScimGroupBindingSpec{Group: group, Namespaces: []string{"team-a"},
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole}}}
	if err := m.k8s.Create(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

// allowed asks the member's authorizer whether user may read configmaps in team-a.
func (m *testMember) allowed(user string) (bool, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "get", Resource: "configmaps"}}}
	if err := m.k8s.Create(context.Background(), sar); err != nil {
		return false, err
	}
	return sar.Status.Allowed, nil
}

func (m *testMember) expectAllowed(user string, want bool) func() error {
	return func() error {
		got, err := m.allowed(user)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s may read in member %s: got %t, want %t", user, m.name, got, want)
		}
		return nil
	}
}

// copies returns the names of the member's copies of hub users.
func (m *testMember) copies() ([]string, error) {
	var list scimv1.ScimUserList
	if err := m.k8s.List(context.Background(), &list, client.MatchingLabels{scimv1.MirroredLabel: m.name}); err != nil {
		return nil, err
	}
	var names []string
	for _, u := range list.Items {
		names = append(names, u.Name)
	}
	return names, nil
}

// hubUser creates a ScimUser on the hub as the SCIM server would, stamped with the time.
func (h *testHub) user(t testing.TB, userName string, memberOf ...string) *scimv1.ScimUser {
	t.Helper()
	u := &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: scimv1.ObjectNameFor(userName), Annotations: stamp()},
		Spec: scimv1.ScimUserSpec{UserName: userName, Active: ptrTo(true), MemberOf: memberOf}}
	if err := h.k8s.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (h *testHub) group(t testing.TB, name string) {
	t.Helper()
	g := &scimv1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: stamp()}, Spec: scimv1.ScimGroupSpec{DisplayName: name}}
	if err := h.k8s.Create(context.Background(), g); err != nil {
		t.Fatal(err)
	}
}

// setActive writes active on the hub, as a SCIM PATCH would.
func (h *testHub) setActive(t testing.TB, userName string, active bool) {
	t.Helper()
	eventually(t, "writing active on the hub", func() error {
		var u scimv1.ScimUser
		if err := h.k8s.Get(context.Background(), client.ObjectKey{Name: scimv1.ObjectNameFor(userName)}, &u); err != nil {
			return err
		}
		u.Spec.Active = ptrTo(active)
		u.Annotations = stamp()
		return h.k8s.Update(context.Background(), &u)
	})
}

func stamp() map[string]string {
	return map[string]string{scimv1.ChangedAtAnnotation: time.Now().UTC().Format(time.RFC3339Nano)}
}

func ptrTo[T any](v T) *T { return &v }

func eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	NewWithT(t).Eventually(check).WithTimeout(waitTimeout).WithPolling(20*time.Millisecond).Should(Succeed(), what)
}

func consistently(t testing.TB, what string, d time.Duration, check func() error) {
	t.Helper()
	NewWithT(t).Consistently(check).WithTimeout(d).WithPolling(50*time.Millisecond).Should(Succeed(), what)
}

func metaName(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

// expectCondition checks a condition of the member's own ScimMember.
func (m *testMember) expectCondition(typ string, want bool) func() error {
	return func() error {
		var sm scimv1.ScimMember
		if err := m.k8s.Get(context.Background(), client.ObjectKey{Name: m.name}, &sm); err != nil {
			return err
		}
		c := meta.FindStatusCondition(sm.Status.Conditions, typ)
		if c == nil || (c.Status == metav1.ConditionTrue) != want {
			return fmt.Errorf("member %s condition %s: %+v, want %t", m.name, typ, c, want)
		}
		return nil
	}
}

// expectEvent checks that the cluster c recorded an Event with reason about its ScimMember
// member, at since or later.
func expectEvent(c client.Client, member, reason string, since time.Time) func() error {
	return func() error {
		found, err := hasEvent(c, member, reason, since)
		if err == nil && !found {
			err = fmt.Errorf("no Event %s about ScimMember %s since %s", reason, member, since.Format(time.RFC3339Nano))
		}
		return err
	}
}

func hasEvent(c client.Client, member, reason string, since time.Time) (bool, error) {
	var list eventsv1.EventList
	if err := c.List(context.Background(), &list); err != nil {
		return false, err
	}
	for _, e := range list.Items {
		at := e.EventTime.Time
		if e.Series != nil && e.Series.LastObservedTime.After(at) { // a repeat of an earlier Event
			at = e.Series.LastObservedTime.Time
		}
		if e.Regarding.Kind == "ScimMember" && e.Regarding.Name == member && e.Reason == reason && !at.Before(since) {
			return true, nil
		}
	}
	return false, nil
}

// expectLocal checks a condition of the member's own ScimMember, reason included.
func (m *testMember) expectLocal(typ string, status metav1.ConditionStatus, reason string) func() error {
	return func() error {
		var sm scimv1.ScimMember
		if err := m.k8s.Get(context.Background(), client.ObjectKey{Name: m.name}, &sm); err != nil {
			return err
		}
		c := meta.FindStatusCondition(sm.Status.Conditions, typ)
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("member %s condition %s: %+v, want %s/%s", m.name, typ, c, status, reason)
		}
		return nil
	}
}
