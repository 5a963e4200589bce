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

package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// The credentials `kubescim join` prints let a member read the hub's identities and report on
// its own ScimMember, and nothing else: checked with real requests under the printed token.
func TestJoinCredentialsDenyWhatTheyShould(t *testing.T) {
	ctx := t.Context()
	const ns, self, other = "kubescim-fleet", "join-east", "join-west"
	var kubeconfig bytes.Buffer
	for _, name := range []string{other, self} { // self last: kubeconfig holds its token
		kubeconfig.Reset()
		if err := join(ctx, testCfg, &joinOptions{name: name, namespace: ns, tokenDuration: time.Hour}, &kubeconfig); err != nil {
			t.Fatalf("join %s: %v", name, err)
		}
	}
	t.Cleanup(func() { removeJoined(ns, self, other) })
	memberCfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig.Bytes())
	if err != nil {
		t.Fatalf("the printed kubeconfig: %v", err)
	}
	member, err := client.NewWithWatch(memberCfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	// The token is the member's ServiceAccount, not the admin who ran join.
	review := &authenticationv1.SelfSubjectReview{}
	if err := member.Create(ctx, review); err != nil {
		t.Fatalf("who am I: %v", err)
	}
	if want := "system:serviceaccount:" + ns + ":kubescim-member-" + self; review.Status.UserInfo.Username != want {
		t.Fatalf("the printed token is %q, want %q", review.Status.UserInfo.Username, want)
	}

	// Objects to read and to try to change, made by the admin.
	user := &scimv1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: scimv1alpha1.ObjectNameFor("joined@example.com")},
		Spec: scimv1alpha1.ScimUserSpec{UserName: "joined@example.com"}}
	group := &scimv1alpha1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: "join-test-devs"}, Spec: scimv1alpha1.ScimGroupSpec{DisplayName: "join-test-devs"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "join-test-secret"}, StringData: map[string]string{"k": "v"}}
	for _, obj := range []client.Object{user, group, secret} {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
	}

	allowed := []struct {
		what string
		do   func() error
	}{
		{"list scimusers", func() error { return member.List(ctx, &scimv1alpha1.ScimUserList{}) }},
		{"get a scimuser", func() error { return member.Get(ctx, client.ObjectKeyFromObject(user), &scimv1alpha1.ScimUser{}) }},
		{"watch scimusers", func() error { return watchOnce(ctx, member, &scimv1alpha1.ScimUserList{}) }},
		{"list scimgroups", func() error { return member.List(ctx, &scimv1alpha1.ScimGroupList{}) }},
		{"get a scimgroup", func() error { return member.Get(ctx, client.ObjectKeyFromObject(group), &scimv1alpha1.ScimGroup{}) }},
		{"watch scimgroups", func() error { return watchOnce(ctx, member, &scimv1alpha1.ScimGroupList{}) }},
		// The fleet bindings that may select it (it evaluates their selectors itself).
		{"list scimgroupbindings", func() error { return member.List(ctx, &scimv1alpha1.ScimGroupBindingList{}) }},
		{"watch scimgroupbindings", func() error { return watchOnce(ctx, member, &scimv1alpha1.ScimGroupBindingList{}) }},
		{"get its own scimmember", func() error { return member.Get(ctx, client.ObjectKey{Name: self}, &scimv1alpha1.ScimMember{}) }},
		{"patch its own scimmember's status", func() error { return patchStatus(ctx, member, self) }},
		{"update its own scimmember's status", func() error {
			var sm scimv1alpha1.ScimMember
			if err := member.Get(ctx, client.ObjectKey{Name: self}, &sm); err != nil {
				return err
			}
			sm.Status.Users = 7
			return member.Status().Update(ctx, &sm)
		}},
	}
	for _, a := range allowed {
		if err := a.do(); err != nil {
			t.Errorf("a member's hub credentials may %s: %v", a.what, err)
		}
	}

	denied := []struct {
		what string
		do   func() error
	}{
		{"create a scimuser", func() error {
			return member.Create(ctx, &scimv1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: scimv1alpha1.ObjectNameFor("intruder@example.com")},
				Spec: scimv1alpha1.ScimUserSpec{UserName: "intruder@example.com"}})
		}},
		{"update a scimuser", func() error { return updateCopy(ctx, member, user, &scimv1alpha1.ScimUser{}) }},
		{"patch a scimuser", func() error {
			return labelPatch(ctx, member, &scimv1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: user.Name}})
		}},
		{"update a scimuser's status", func() error {
			u := &scimv1alpha1.ScimUser{}
			if err := member.Get(ctx, client.ObjectKeyFromObject(user), u); err != nil {
				return err
			}
			return member.Status().Update(ctx, u)
		}},
		{"delete a scimuser", func() error {
			return member.Delete(ctx, &scimv1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: user.Name}})
		}},
		{"delete every scimuser", func() error { return member.DeleteAllOf(ctx, &scimv1alpha1.ScimUser{}) }},
		{"create a scimgroup", func() error {
			return member.Create(ctx, &scimv1alpha1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: "intruders"}, Spec: scimv1alpha1.ScimGroupSpec{DisplayName: "intruders"}})
		}},
		{"update a scimgroup", func() error { return updateCopy(ctx, member, group, &scimv1alpha1.ScimGroup{}) }},
		{"delete a scimgroup", func() error {
			return member.Delete(ctx, &scimv1alpha1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: group.Name}})
		}},
		{"patch another member's status", func() error { return patchStatus(ctx, member, other) }},
		{"get another member's scimmember", func() error { return member.Get(ctx, client.ObjectKey{Name: other}, &scimv1alpha1.ScimMember{}) }},
		{"list scimmembers", func() error { return member.List(ctx, &scimv1alpha1.ScimMemberList{}) }},
		{"create a scimmember", func() error {
			return member.Create(ctx, &scimv1alpha1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: "join-rogue"}})
		}},
		// Its labels are what hub-side selectors match: a member must not relabel itself.
		{"label its own scimmember", func() error {
			return labelPatch(ctx, member, &scimv1alpha1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: self}})
		}},
		{"delete its own scimmember", func() error {
			return member.Delete(ctx, &scimv1alpha1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: self}})
		}},
		// Fleet bindings are read, never written, by members.
		{"create a scimgroupbinding", func() error {
			return member.Create(ctx, &scimv1alpha1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: "join-rogue"},
				Spec: scimv1alpha1.ScimGroupBindingSpec{Group: "intruders", Scope: scimv1alpha1.ScopeCluster,
					RoleRef: scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"}, MemberSelector: &metav1.LabelSelector{}}})
		}},
		{"delete every scimgroupbinding", func() error { return member.DeleteAllOf(ctx, &scimv1alpha1.ScimGroupBinding{}) }},
		{"get a secret in its namespace", func() error { return member.Get(ctx, client.ObjectKeyFromObject(secret), &corev1.Secret{}) }},
		{"list secrets in its namespace", func() error { return member.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)) }},
		{"list secrets", func() error { return member.List(ctx, &corev1.SecretList{}) }},
		{"issue itself a token for another member", func() error {
			return member.SubResource("token").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kubescim-member-" + other}},
				&authenticationv1.TokenRequest{})
		}},
		{"widen its own role", func() error {
			return labelPatch(ctx, member, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "kubescim-member-" + self}})
		}},
	}
	for _, d := range denied {
		if err := d.do(); !apierrors.IsForbidden(err) {
			t.Errorf("a member's hub credentials may not %s: got %v, want Forbidden", d.what, err)
		}
	}
	// And the denied writes changed nothing.
	var sm scimv1alpha1.ScimMember
	if err := k8s.Get(ctx, client.ObjectKey{Name: other}, &sm); err != nil || sm.Status.Users != 0 {
		t.Errorf("the other member's status: %+v, %v; want untouched", sm.Status, err)
	}
}

// watchOnce opens a watch and closes it: the API server authorizes a watch when it opens.
func watchOnce(ctx context.Context, c client.WithWatch, list client.ObjectList) error {
	w, err := c.Watch(ctx, list)
	if err != nil {
		return err
	}
	w.Stop()
	return nil
}

// patchStatus merge-patches the status of the ScimMember name, as a member's heartbeat writes it.
func patchStatus(ctx context.Context, c client.Client, name string) error {
	sm := &scimv1alpha1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: name}}
	return c.Status().Patch(ctx, sm, client.RawPatch("application/merge-patch+json", []byte(`{"status":{"users":42}}`)))
}

// labelPatch merge-patches a label onto obj.
func labelPatch(ctx context.Context, c client.Client, obj client.Object) error {
	return c.Patch(ctx, obj, client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"env":"production"}}}`)))
}

// updateCopy reads obj through c (which may read) and writes it back with a new label.
func updateCopy(ctx context.Context, c client.Client, obj, into client.Object) error {
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), into); err != nil {
		return fmt.Errorf("reading before the update: %w", err)
	}
	into.SetLabels(map[string]string{"env": "production"})
	return c.Update(ctx, into)
}

// removeJoined deletes what join made for the members names.
func removeJoined(ns string, names ...string) {
	ctx := context.Background()
	for _, name := range names {
		sa := "kubescim-member-" + name
		for _, obj := range []client.Object{
			&scimv1alpha1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: name}},
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}},
			&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa}},
			&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa + "-status"}},
			&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: sa}},
		} {
			_ = k8s.Delete(ctx, obj)
		}
	}
	_ = k8s.Delete(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: memberReaderRole}})
}
