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
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/hack/devcluster"
)

// checkMirrorGuard applies a fleet member's RBAC and mirror guard (beside the standalone release
// already applied, same controllers' ServiceAccount) and proves on the API server that the
// mirrored copies are read-only for an admin (system:masters) while the member's controllers
// still create, update, write status and delete them.
func checkMirrorGuard(t *testing.T, cluster *devcluster.Cluster) {
	ctx := t.Context()
	var objs []*unstructured.Unstructured
	for _, o := range render(t, memberValues...) {
		if strings.HasSuffix(o.GetName(), "-mirror-guard") || o.GetName() == release+"-member" {
			objs = append(objs, o)
		}
	}
	if len(objs) != 4 { // the policy, its binding, the ClusterRole and its binding
		t.Fatalf("member render has %d mirror guard and member RBAC objects, want 4", len(objs))
	}
	admin := scimClient(t, cluster.Config)
	if err := devcluster.Apply(ctx, admin, objs); err != nil {
		t.Fatal(err)
	}
	ctlConfig := rest.CopyConfig(cluster.Config)
	ctlConfig.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + namespace + ":" + release + "-controller",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
	}
	controllers := scimClient(t, ctlConfig)

	userName := "copy@example.com"
	key := client.ObjectKey{Name: scimv1.ObjectNameFor(userName)}
	mirrored := func() *scimv1.ScimUser {
		return &scimv1.ScimUser{
			ObjectMeta: metav1.ObjectMeta{Name: key.Name, Labels: map[string]string{scimv1.MirroredLabel: "prod-eu"},
				Annotations: map[string]string{scimv1.ChangedAtAnnotation: time.Now().UTC().Format(time.RFC3339Nano)}},
			Spec: scimv1.ScimUserSpec{UserName: userName, Active: ptr.To(true)},
		}
	}
	// The API server loads a new policy within about a second: wait until it refuses an admin
	// creating a copy (which also proves no one but the mirror may make one).
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := admin.Create(ctx, mirrored())
		if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
			if !strings.Contains(err.Error(), "read-only copy mirrored from the fleet's hub") {
				t.Fatalf("admin creating a copy refused without saying why: %v", err)
			}
			break
		}
		if err == nil {
			if err := admin.Delete(ctx, mirrored()); err != nil && !apierrors.IsForbidden(err) {
				t.Fatal(err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mirror guard never refused an admin's copy: last %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	if err := controllers.Create(ctx, mirrored()); err != nil {
		t.Fatalf("the member's controllers may not create a copy: %v", err)
	}
	var u scimv1.ScimUser
	if err := admin.Get(ctx, key, &u); err != nil {
		t.Fatal(err)
	}
	u.Spec.Active = ptr.To(false)
	expectMirrorForbidden(t, "an admin deactivating a copy", admin.Update(ctx, u.DeepCopy()))
	stripped := u.DeepCopy()
	delete(stripped.Labels, scimv1.MirroredLabel)
	expectMirrorForbidden(t, "an admin removing the mirrored label", admin.Update(ctx, stripped))
	expectMirrorForbidden(t, "an admin writing a copy's status", admin.Status().Update(ctx, u.DeepCopy()))
	expectMirrorForbidden(t, "an admin deleting a copy", admin.Delete(ctx, u.DeepCopy()))

	if err := controllers.Update(ctx, u.DeepCopy()); err != nil {
		t.Errorf("the member's controllers may not update a copy: %v", err)
	}
	if err := controllers.Get(ctx, key, &u); err != nil {
		t.Fatal(err)
	}
	u.Status.AccessSummary = "none"
	if err := controllers.Status().Update(ctx, &u); err != nil {
		t.Errorf("the member's controllers may not write a copy's status: %v", err)
	}
	if err := controllers.Delete(ctx, &u); err != nil {
		t.Errorf("the member's controllers may not delete a copy: %v", err)
	}

	// A ScimUser of the member's own (not a copy) stays an admin's to change.
	own := mirrored()
	own.Name, own.Spec.UserName, own.Labels = scimv1.ObjectNameFor("local@example.com"), "local@example.com", nil
	if err := admin.Create(ctx, own); err != nil {
		t.Fatalf("the guard refuses an admin's own ScimUser: %v", err)
	}
	if err := admin.Delete(ctx, own); err != nil {
		t.Errorf("the guard refuses deleting an admin's own ScimUser: %v", err)
	}
}

func expectMirrorForbidden(t *testing.T, what string, err error) {
	t.Helper()
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
		t.Errorf("%s: %v, want refused by the mirror guard", what, err)
		return
	}
	if !strings.Contains(err.Error(), "change it on the hub") {
		t.Errorf("%s refused without saying where to change it: %v", what, err)
	}
}

func scimClient(t *testing.T, config *rest.Config) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := scimv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}
