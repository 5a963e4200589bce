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
	"fmt"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/hack/devcluster"
)

// TestChartInstallsIntoAPIServer server-side applies the rendered chart to a dev cluster (a real
// kube-apiserver with kube-controller-manager), in a namespace that enforces the "restricted"
// Pod Security Standard, and then asks the API server's own authorizer what each component's
// ServiceAccount may do. hack/e2e/chart_test.go runs the components as those identities.
func TestChartInstallsIntoAPIServer(t *testing.T) {
	ctx := t.Context()
	cluster, err := devcluster.Start(ctx, devcluster.Options{Dir: t.TempDir(), ControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}

	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": namespace, "labels": map[string]any{
			"pod-security.kubernetes.io/enforce": "restricted",
		}},
	}}
	var objs []*unstructured.Unstructured
	for _, o := range render(t, "ingress.enabled=true", "networkPolicy.enabled=true", "serviceAccounts.enabled=true") {
		if o.GetAnnotations()["helm.sh/hook"] == "" { // helm creates hooks only when they run
			objs = append(objs, o)
		}
	}
	cl, err := clientFor(cluster)
	if err != nil {
		t.Fatal(err)
	}
	if err := devcluster.Apply(ctx, cl, append([]*unstructured.Unstructured{ns}, objs...)); err != nil {
		t.Fatalf("the API server refused the rendered chart: %v", err)
	}

	// The Deployment controller creates the pods only if Pod Security admission lets them in.
	for _, name := range []string{"kubescim", "kubescim-controller"} {
		selector := "app.kubernetes.io/name=" + name + ",app.kubernetes.io/instance=" + release
		deadline := time.Now().Add(60 * time.Second)
		for {
			pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				t.Fatal(err)
			}
			if len(pods.Items) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of 2 %s pods created; ReplicaSets: %s", len(pods.Items), name, replicaSetConditions(t, cs))
			}
			time.Sleep(250 * time.Millisecond)
		}
	}

	scim := "system:serviceaccount:" + namespace + ":" + release
	controller := scim + "-controller"
	for _, tc := range []struct {
		user  string
		attrs authorizationv1.ResourceAttributes
		want  bool
	}{
		{controller, authorizationv1.ResourceAttributes{Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Verb: "bind", Name: "edit"}, true},
		{controller, authorizationv1.ResourceAttributes{Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Verb: "bind", Name: "cluster-admin"}, false},
		{controller, authorizationv1.ResourceAttributes{Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Verb: "escalate", Name: "edit"}, false},
		{controller, authorizationv1.ResourceAttributes{Group: "rbac.authorization.k8s.io", Resource: "rolebindings", Verb: "create", Namespace: "team-a"}, true},
		{controller, authorizationv1.ResourceAttributes{Resource: "serviceaccounts", Verb: "create", Namespace: "kubescim-users"}, true},
		{controller, authorizationv1.ResourceAttributes{Resource: "serviceaccounts", Verb: "create", Namespace: "kube-system"}, false},
		{controller, authorizationv1.ResourceAttributes{Group: "coordination.k8s.io", Resource: "leases", Verb: "update", Namespace: namespace, Name: "kubescim.scim.kubescim.io"}, true},
		{controller, authorizationv1.ResourceAttributes{Group: "coordination.k8s.io", Resource: "leases", Verb: "update", Namespace: namespace, Name: "other"}, false},
		{controller, authorizationv1.ResourceAttributes{Group: "coordination.k8s.io", Resource: "leases", Verb: "update", Namespace: "kube-system"}, false},
		{controller, authorizationv1.ResourceAttributes{Resource: "secrets", Verb: "get", Namespace: namespace, Name: "kubescim-scim-token"}, false},
		{controller, authorizationv1.ResourceAttributes{Group: "scim.kubescim.io", Resource: "scimusers", Verb: "create"}, false},
		{scim, authorizationv1.ResourceAttributes{Group: "scim.kubescim.io", Resource: "scimusers", Verb: "create"}, true},
		{scim, authorizationv1.ResourceAttributes{Group: "scim.kubescim.io", Resource: "scimusers", Subresource: "status", Verb: "update"}, false},
		{scim, authorizationv1.ResourceAttributes{Resource: "secrets", Verb: "watch", Namespace: namespace, Name: "kubescim-scim-token"}, true},
		{scim, authorizationv1.ResourceAttributes{Resource: "secrets", Verb: "get", Namespace: namespace, Name: "other"}, false},
		{scim, authorizationv1.ResourceAttributes{Resource: "secrets", Verb: "list", Namespace: namespace}, false},
		{scim, authorizationv1.ResourceAttributes{Group: "rbac.authorization.k8s.io", Resource: "rolebindings", Verb: "create", Namespace: "team-a"}, false},
		{scim, authorizationv1.ResourceAttributes{Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Verb: "bind", Name: "edit"}, false},
		{scim, authorizationv1.ResourceAttributes{Resource: "serviceaccounts", Verb: "create", Namespace: "kubescim-users"}, false},
		{scim, authorizationv1.ResourceAttributes{Group: "coordination.k8s.io", Resource: "leases", Verb: "update", Namespace: namespace, Name: "kubescim.scim.kubescim.io"}, false},
	} {
		attrs, sa := tc.attrs, tc.user
		sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{User: sa, ResourceAttributes: &attrs},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if sar.Status.Allowed != tc.want {
			t.Errorf("can %s %s %s/%s in %q (group %q): %v, want %v", sa, attrs.Verb, attrs.Resource, attrs.Name, attrs.Namespace, attrs.Group, sar.Status.Allowed, tc.want)
		}
	}

	// A namespace the chart creates for per-user ServiceAccounts is there too.
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "kubescim-users", metav1.GetOptions{}); err != nil {
		t.Errorf("per-user ServiceAccount namespace: %v", err)
	}

	t.Run("a fleet member's mirrored copies are read-only", func(t *testing.T) { checkMirrorGuard(t, cluster) })

	t.Run("helm install and upgrade keep the generated token", func(t *testing.T) {
		// A second release beside the applied one: the CRDs are already there.
		const rel, relNamespace = "second", "helm-release"
		secretName := rel + "-kubescim-scim-token"
		token := func() []byte {
			s, err := cs.CoreV1().Secrets(relNamespace).Get(ctx, secretName, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Data["idp"]) == 0 {
				t.Fatalf("Secret %s has no idp token: %v", secretName, s.Data)
			}
			return s.Data["idp"]
		}
		common := []string{".", "--namespace", relNamespace, "--kubeconfig", cluster.KubeconfigPath, "--set", "crds.install=false"}
		// No --kube-version here: helm checks Chart.yaml's kubeVersion against the API server's
		// reported version, which the dev cluster's binaries carry.
		if out, err := helm(t, append([]string{"install", rel, "--create-namespace"}, common...)...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		installed := token()
		if out, err := helm(t, append([]string{"upgrade", rel}, common...)...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if upgraded := token(); string(upgraded) != string(installed) {
			t.Error("helm upgrade replaced the generated SCIM token; IdPs would lose access")
		}
	})
}

func replicaSetConditions(t *testing.T, cs kubernetes.Interface) string {
	rss, err := cs.AppsV1().ReplicaSets(namespace).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, rs := range rss.Items {
		for _, c := range rs.Status.Conditions {
			fmt.Fprintf(&b, "%s %s=%s: %s; ", rs.Name, c.Type, c.Status, c.Message)
		}
	}
	return b.String()
}

// clientFor is a controller-runtime client for the cluster; Apply needs nothing more.
func clientFor(c *devcluster.Cluster) (client.Client, error) {
	return client.New(c.Config, client.Options{})
}
