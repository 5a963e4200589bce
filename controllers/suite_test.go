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

package controllers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// The suite runs one envtest control plane and three managers on it, each with the real
// controllers and its own Options. suiteLabel partitions the kubescim objects between them
// (through each manager's cache selector), so they never reconcile each other's objects:
//   - main (no label): subject prefix "oidc:", no ServiceAccounts;
//   - sa (suiteLabel=sa): per-user ServiceAccounts;
//   - restricted (suiteLabel=restricted): runs as a user holding only the controllers' generated
//     ClusterRole (config/rbac/controller/role.yaml)
//     plus `bind` on the test reader role, and allows cluster-admin in its own list, so the
//     API server's escalation check is what refuses it;
//   - faulty (suiteLabel=faulty): its client fails the cache reads a test asks it to fail
//     (faultyReads), to drive bindings into the states a broken read leads to.
//
// Tests may start further managers of their own partition (e.g. to restart one).
const suiteLabel = "kubescim.test/suite"

// readerRole is a ClusterRole with real rules (bare envtest's view/edit/admin are empty).
const readerRole = "kubescim-test-reader"

// matrixRole has readerRole's rules; the restricted identity may bind it only while a test grants
// that, so a test can take the permission away from bindings that already hold RoleBindings.
const matrixRole = "kubescim-test-matrix-reader"

// restrictedUser is the identity the restricted manager runs as.
const restrictedUser = "kubescim-restricted"

var (
	scheme  = runtime.NewScheme()
	testCfg *rest.Config
	k8s     client.Client // admin client straight to the API server
	// restrictedTestCfg is the restricted identity's config (see restrictedIdentity).
	restrictedTestCfg *rest.Config
	auditSink         = &lineBuffer{}

	mainOptions = Options{
		SubjectPrefix:         "oidc:",
		BindableRoles:         []RoleName{{"ClusterRole", "view"}, {"ClusterRole", "edit"}, {"ClusterRole", readerRole}, {"Role", "deployer"}},
		MaxSubjectsPerBinding: 1000,
	}
	saOptions = Options{
		ServiceAccounts: true,
		BindableRoles:   []RoleName{{"ClusterRole", readerRole}},
	}
	// Binding names per partition: each manager caches only its own partition's RoleBindings and
	// ClusterRoleBindings, or it would prune the others' as belonging to bindings it cannot see.
	partitionBindings = map[string][]string{
		"sa":         {"sa-read"},
		"restricted": {"restricted-read", "restricted-admin", "nr-forbidden"},
		"faulty":     {"nr-members-unreadable", "nr-namespaces-unreadable"},
		"restart":    {"restart-read"},
		"terms":      {"terms-read"},
		"expiry":     {"expiry-read"},
		"direct":     {"direct-ok", "direct-role", "direct-nogroup", "direct-selector", "direct-forbidden"},
	}
	restrictedOptions = Options{
		BindableRoles: []RoleName{{"ClusterRole", readerRole}, {"ClusterRole", "cluster-admin"}, {"ClusterRole", matrixRole}},
	}
	faultyOptions = Options{BindableRoles: []RoleName{{"ClusterRole", readerRole}}}
	// faults are the reads the faulty manager's client currently fails.
	faults = &readFaults{}
)

// lineBuffer keeps the audit log lines the managers write.
type lineBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *lineBuffer) add(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, s)
}

func (b *lineBuffer) matching(substrings ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
next:
	for _, l := range b.lines {
		for _, s := range substrings {
			if !strings.Contains(l, s) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	verbose := os.Getenv("KUBESCIM_TEST_LOG") != ""
	ctrl.SetLogger(funcr.NewJSON(func(line string) {
		if strings.Contains(line, `"logger":"audit"`) {
			auditSink.add(line)
		}
		if verbose {
			fmt.Fprintln(os.Stderr, line)
		}
	}, funcr.Options{}))
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(clientgoscheme.AddToScheme(scheme))
	must(scimv1.AddToScheme(scheme))

	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		// Same binaries as `make test`: built once from source by hack/setup-envtest.sh.
		out, err := exec.Command(filepath.Join("..", "hack", "setup-envtest.sh")).Output()
		must(err)
		must(os.Setenv("KUBEBUILDER_ASSETS", strings.TrimSpace(string(out))))
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	// The suite writes tens of thousands of objects; etcd's fsync per write would dominate.
	env.ControlPlane.Etcd = &envtest.Etcd{}
	env.ControlPlane.Etcd.Configure().Append("unsafe-no-fsync", "true")
	cfg, err := env.Start()
	must(err)
	defer func() { _ = env.Stop() }()
	cfg.QPS, cfg.Burst = 2000, 4000
	testCfg = cfg
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	must(err)

	ctx, cancel := context.WithCancel(context.Background())
	must(createFixtures(ctx))
	restrictedCfg, err := restrictedIdentity(ctx, env)
	must(err)
	restrictedTestCfg = restrictedCfg

	var wg sync.WaitGroup
	for _, m := range []struct {
		cfg   *rest.Config
		label string
		opts  Options
		wrap  func(client.Client) client.Client
	}{
		{cfg, "", mainOptions, nil},
		{cfg, "sa", saOptions, nil},
		{restrictedCfg, "restricted", restrictedOptions, nil},
		{cfg, "faulty", faultyOptions, faults.wrap},
	} {
		mgr, err := newTestManager(ctx, m.cfg, m.label, m.opts, m.wrap)
		must(err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := mgr.Start(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "manager stopped:", err)
			}
		}()
	}
	code := m.Run()
	cancel()
	wg.Wait()
	return code
}

// newTestManager builds a manager that sees only the kubescim objects of its partition, with the
// controllers set up. wrap, when set, wraps the manager's client (the controllers' reader and
// writer).
func newTestManager(ctx context.Context, cfg *rest.Config, label string, opts Options, wrap func(client.Client) client.Client) (ctrl.Manager, error) {
	mgr, err := newPartitionManager(ctx, cfg, label, wrap)
	if err != nil {
		return nil, err
	}
	return mgr, SetupWithManager(mgr, opts)
}

// newPartitionManager builds a manager that sees only the kubescim objects of its partition.
// wrap, when set, wraps the manager's client.
func newPartitionManager(ctx context.Context, cfg *rest.Config, label string, wrap func(client.Client) client.Client) (ctrl.Manager, error) {
	req, err := labels.NewRequirement(suiteLabel, selection.DoesNotExist, nil)
	if label != "" {
		req, err = labels.NewRequirement(suiteLabel, selection.Equals, []string{label})
	}
	if err != nil {
		return nil, err
	}
	sel := labels.NewSelector().Add(*req)
	var others []string
	for _, names := range partitionBindings {
		others = append(others, names...)
	}
	rbReq, err := labels.NewRequirement(scimv1.BindingLabel, selection.NotIn, others)
	if label != "" {
		rbReq, err = labels.NewRequirement(scimv1.BindingLabel, selection.In, partitionBindings[label])
	}
	if err != nil {
		return nil, err
	}
	rbSel := labels.NewSelector().Add(*rbReq)
	newClient := client.New
	if wrap != nil {
		newClient = func(cfg *rest.Config, o client.Options) (client.Client, error) {
			c, err := client.New(cfg, o)
			if err != nil {
				return nil, err
			}
			return wrap(c), nil
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		NewClient:               newClient,
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		Controller:              config.Controller{SkipNameValidation: ptr.To(true)},
		GracefulShutdownTimeout: ptr.To(5 * time.Second),
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&scimv1.ScimUser{}:           {Label: sel},
			&scimv1.ScimGroup{}:          {Label: sel},
			&scimv1.ScimGroupBinding{}:   {Label: sel},
			&rbacv1.RoleBinding{}:        {Label: rbSel},
			&rbacv1.ClusterRoleBinding{}: {Label: rbSel},
		}},
	})
	if err != nil {
		return nil, err
	}
	if err := scimv1.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	return mgr, nil
}

// createFixtures makes the ServiceAccount namespace and the ClusterRoles with real rules.
func createFixtures(ctx context.Context) error {
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: DefaultServiceAccountNamespace}}); err != nil {
		return err
	}
	for _, name := range []string{readerRole, matrixRole} {
		if err := k8s.Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods", "configmaps"}, Verbs: []string{"get", "list"}}},
		}); err != nil {
			return err
		}
	}
	return nil
}

// restrictedIdentity creates a user holding exactly the controllers' generated ClusterRole
// (config/rbac/controller/role.yaml) and `bind` on readerRole only, as the Helm chart renders it.
func restrictedIdentity(ctx context.Context, env *envtest.Environment) (*rest.Config, error) {
	const user = restrictedUser
	raw, err := os.ReadFile(filepath.Join("..", "config", "rbac", "controller", "role.yaml"))
	if err != nil {
		return nil, err
	}
	var managerRole rbacv1.ClusterRole
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		if err := yaml.Unmarshal([]byte(doc), &managerRole); err != nil {
			return nil, err
		}
		if managerRole.Kind == "ClusterRole" {
			break
		}
	}
	if managerRole.Kind != "ClusterRole" {
		return nil, errors.New("config/rbac/controller/role.yaml has no ClusterRole")
	}
	managerRole.Name = "kubescim-restricted-manager"
	bindRole := rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "kubescim-restricted-bind"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"},
			Verbs: []string{"bind"}, ResourceNames: []string{readerRole}}},
	}
	for _, role := range []*rbacv1.ClusterRole{&managerRole, &bindRole} {
		if err := k8s.Create(ctx, role); err != nil {
			return nil, err
		}
		if err := k8s.Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role.Name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		}); err != nil {
			return nil, err
		}
	}
	au, err := env.AddUser(envtest.User{Name: user}, testCfg)
	if err != nil {
		return nil, err
	}
	cfg := au.Config()
	cfg.QPS, cfg.Burst = 2000, 4000
	return cfg, nil
}
