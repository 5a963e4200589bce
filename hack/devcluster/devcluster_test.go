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

package devcluster_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/hack/devcluster"
)

var (
	cluster *devcluster.Cluster
	k8s     client.Client
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "devcluster-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cluster, err = devcluster.Start(context.Background(), devcluster.Options{
		Dir:               dir,
		CRDDirs:           []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ControllerManager: true,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting dev cluster:", err)
		return 1
	}
	code := func() int {
		scheme := runtime.NewScheme()
		if err := clientgoscheme.AddToScheme(scheme); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := scimv1.AddToScheme(scheme); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if k8s, err = client.New(cluster.Config, client.Options{Scheme: scheme}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	if err := cluster.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping dev cluster:", err)
		return 1
	}
	return code
}

func TestAggregatedRolesHaveRules(t *testing.T) {
	ctx := t.Context()
	for _, name := range devcluster.AggregatedRoles {
		var role rbacv1.ClusterRole
		if err := k8s.Get(ctx, client.ObjectKey{Name: name}, &role); err != nil {
			t.Fatalf("reading ClusterRole %s: %v", name, err)
		}
		if len(role.Rules) == 0 {
			t.Errorf("ClusterRole %s has no rules: the aggregation controller did not run", name)
		}
	}
	var edit rbacv1.ClusterRole
	if err := k8s.Get(ctx, client.ObjectKey{Name: "edit"}, &edit); err != nil {
		t.Fatal(err)
	}
	if !grants(edit.Rules, "apps", "deployments", "create") {
		t.Errorf("ClusterRole edit does not grant create on deployments: %+v", edit.Rules)
	}
}

func grants(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	for _, r := range rules {
		if contains(r.APIGroups, group) && contains(r.Resources, resource) && contains(r.Verbs, verb) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s || v == "*" {
			return true
		}
	}
	return false
}

func TestGarbageCollectorDeletesOwnedObjects(t *testing.T) {
	g := NewWithT(t)
	ctx := t.Context()
	owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "gc-owner", Namespace: "default"}}
	g.Expect(k8s.Create(ctx, owner)).To(Succeed())
	owned := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: "gc-owned", Namespace: "default",
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID,
			BlockOwnerDeletion: ptr.To(true),
		}},
	}}
	g.Expect(k8s.Create(ctx, owned)).To(Succeed())

	g.Expect(k8s.Delete(ctx, owner)).To(Succeed())
	g.Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKeyFromObject(owned), &corev1.ConfigMap{})
	}, 30*time.Second, 100*time.Millisecond).Should(Satisfy(apierrors.IsNotFound),
		"the garbage collector should delete the owned ConfigMap")
}

func TestNamespaceDeletionCompletes(t *testing.T) {
	g := NewWithT(t)
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}}
	g.Expect(k8s.Create(ctx, ns)).To(Succeed())
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "content", Namespace: ns.Name}}
	g.Expect(k8s.Create(ctx, cm)).To(Succeed())

	g.Expect(k8s.Delete(ctx, ns)).To(Succeed())
	g.Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKeyFromObject(ns), &corev1.Namespace{})
	}, 60*time.Second, 200*time.Millisecond).Should(Satisfy(apierrors.IsNotFound),
		"the namespace controller should finalize the namespace")
}

// The tokens controller signs with the key kube-apiserver verifies with, so a ServiceAccount
// token it issues authenticates; the root CA publisher and ServiceAccount controller run too.
func TestServiceAccountTokensAuthenticate(t *testing.T) {
	g := NewWithT(t)
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tokens"}}
	g.Expect(k8s.Create(ctx, ns)).To(Succeed())
	g.Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "default"}, &corev1.ServiceAccount{})
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed(), "the ServiceAccount controller creates default")
	g.Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "kube-root-ca.crt"}, &corev1.ConfigMap{})
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed(), "the root CA publisher creates kube-root-ca.crt")

	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "default-token", Namespace: ns.Name,
			Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
		Type: corev1.SecretTypeServiceAccountToken,
	}
	g.Expect(k8s.Create(ctx, secret)).To(Succeed())
	g.Eventually(func() ([]byte, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(secret), secret)
		return secret.Data[corev1.ServiceAccountTokenKey], err
	}, 30*time.Second, 100*time.Millisecond).ShouldNot(BeEmpty(), "the tokens controller fills the token")

	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{
		Token: string(secret.Data[corev1.ServiceAccountTokenKey]),
	}}
	g.Expect(k8s.Create(ctx, review)).To(Succeed())
	g.Expect(review.Status.Authenticated).To(BeTrue(), "token review error: %s", review.Status.Error)
	g.Expect(review.Status.User.Username).To(Equal("system:serviceaccount:tokens:default"))
}

func TestKubectlVersionReportsServerVersion(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "kubectl", "version", "--kubeconfig", cluster.KubeconfigPath).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl version: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Server Version: v1.35.4") {
		t.Errorf("kubectl version does not show Server Version v1.35.4:\n%s", out)
	}
}

func TestControllerManagerLogIsWritten(t *testing.T) {
	info, err := os.Stat(cluster.ControllerManagerLogPath)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() == 0 {
		t.Errorf("%s is empty", cluster.ControllerManagerLogPath)
	}
}

func TestStartFailsClearlyWithoutControllerManagerBinary(t *testing.T) {
	binDir := t.TempDir() // has no binaries at all
	_, err := devcluster.Start(t.Context(), devcluster.Options{
		Dir: t.TempDir(), BinaryDir: binDir, ControllerManager: true,
	})
	if err == nil || !strings.Contains(err.Error(), "kube-controller-manager not found") {
		t.Fatalf("Start without kube-controller-manager: got %v, want a 'kube-controller-manager not found' error", err)
	}
}

func TestApplyDirAppliesSamples(t *testing.T) {
	ctx := t.Context()
	samples := filepath.Join("..", "..", "config", "samples")
	for i := range 2 { // applying again must be a no-op, not a conflict
		if err := cluster.ApplyDir(ctx, samples); err != nil {
			t.Fatalf("ApplyDir(config/samples) #%d: %v", i+1, err)
		}
	}
	var ns corev1.Namespace
	if err := k8s.Get(ctx, client.ObjectKey{Name: "team-a"}, &ns); err != nil {
		t.Fatal(err)
	}
	if ns.Labels["team"] != "a" {
		t.Errorf("namespace team-a labels = %v, want team=a", ns.Labels)
	}
	var binding scimv1.ScimGroupBinding
	if err := k8s.Get(ctx, client.ObjectKey{Name: "team-a-developers"}, &binding); err != nil {
		t.Fatal(err)
	}
	want := scimv1.ScimGroupBindingSpec{
		Group:      "developers",
		RoleRef:    scimv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edit"},
		Scope:      scimv1.ScopeNamespaced, // defaulted by the CRD
		Namespaces: []string{"team-a"},
	}
	if fmt.Sprint(binding.Spec) != fmt.Sprint(want) {
		t.Errorf("ScimGroupBinding spec = %+v, want %+v", binding.Spec, want)
	}
}

func TestParseManifestsRejectsDocumentWithoutKind(t *testing.T) {
	objs, err := devcluster.ParseManifests([]byte("---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"))
	if err != nil || len(objs) != 1 || objs[0].GetName() != "a" {
		t.Fatalf("ParseManifests = %v, %v; want one ConfigMap a", objs, err)
	}
	if _, err := devcluster.ParseManifests([]byte("metadata: {name: a}\n")); err == nil {
		t.Fatal("ParseManifests accepted a document without apiVersion and kind")
	}
}
