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
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// waitTimeout bounds every wait on the API server or the controllers: generous, for a loaded
// 2-core machine.
const waitTimeout = 45 * time.Second

// eventually retries check with Gomega until it returns nil, failing the test with its last
// error after waitTimeout.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	eventuallyWithin(t, waitTimeout, what, check)
}

func eventuallyWithin(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	NewWithT(t).Eventually(check).WithTimeout(timeout).WithPolling(50*time.Millisecond).Should(Succeed(), what)
}

// consistently checks with Gomega that check keeps returning nil for d.
func consistently(t *testing.T, what string, d time.Duration, check func() error) {
	t.Helper()
	NewWithT(t).Consistently(check).WithTimeout(d).WithPolling(100*time.Millisecond).Should(Succeed(), what)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

func suiteLabels(partition string) map[string]string {
	if partition == "" {
		return nil
	}
	return map[string]string{suiteLabel: partition}
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

func newGroup(t *testing.T, partition, name string, memberOf ...string) *scimv1.ScimGroup {
	t.Helper()
	g := &scimv1.ScimGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: suiteLabels(partition)},
		Spec:       scimv1.ScimGroupSpec{DisplayName: name + " display", MemberOf: memberOf},
	}
	mustCreate(t, g)
	return g
}

func newUser(t *testing.T, partition, userName string, memberOf ...string) *scimv1.ScimUser {
	t.Helper()
	u := &scimv1.ScimUser{
		ObjectMeta: metav1.ObjectMeta{Name: scimv1.ObjectNameFor(userName), Labels: suiteLabels(partition),
			Annotations: map[string]string{scimv1.ChangedAtAnnotation: time.Now().UTC().Format(time.RFC3339Nano), scimv1.ChangedByAnnotation: "okta-test"}},
		Spec: scimv1.ScimUserSpec{UserName: userName, Active: ptr.To(true), MemberOf: memberOf},
	}
	mustCreate(t, u)
	return u
}

func newNamespace(t *testing.T, name string, lbls map[string]string) *corev1.Namespace {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}}
	mustCreate(t, ns)
	return ns
}

// newBinding binds readerRole for the group in the namespaces.
func newBinding(t *testing.T, partition, name string, group *scimv1.ScimGroup, namespaces ...string) *scimv1.ScimGroupBinding {
	t.Helper()
	b := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: suiteLabels(partition)},
		Spec: scimv1.ScimGroupBindingSpec{
			Group:      group.Spec.DisplayName,
			RoleRef:    scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole},
			Namespaces: namespaces,
		},
	}
	mustCreate(t, b)
	return b
}

// update re-reads obj, applies change and writes it, retrying on conflicts.
func update[T client.Object](t *testing.T, obj T, change func(T)) {
	t.Helper()
	eventually(t, "updating "+obj.GetName(), func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		change(obj)
		return k8s.Update(context.Background(), obj)
	})
}

// managedRoleBindings lists the RoleBindings kubescim made for a binding.
func managedRoleBindings(binding string) ([]rbacv1.RoleBinding, error) {
	var list rbacv1.RoleBindingList
	err := k8s.List(context.Background(), &list, client.MatchingLabels{scimv1.BindingLabel: binding, scimv1.ManagedByLabel: scimv1.ManagedByValue})
	return list.Items, err
}

// subjectNames returns the sorted names of the subjects of a binding's RoleBindings in ns.
func subjectNames(binding, ns string) ([]string, error) {
	rbs, err := managedRoleBindings(binding)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, rb := range rbs {
		if rb.Namespace != ns {
			continue
		}
		for _, s := range rb.Subjects {
			names = append(names, s.Name)
		}
	}
	sort.Strings(names)
	return names, nil
}

func expectSubjects(binding, ns string, want ...string) func() error {
	sort.Strings(want)
	return func() error {
		got, err := subjectNames(binding, ns)
		if err != nil {
			return err
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("subjects in %s: got %v, want %v", ns, got, want)
		}
		return nil
	}
}

// allowed asks the API server's authorizer whether user may verb resource in ns.
func allowed(user, verb, resource, ns string) (bool, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               user,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Resource: resource},
	}}
	if err := k8s.Create(context.Background(), sar); err != nil {
		return false, err
	}
	return sar.Status.Allowed, nil
}

func expectAllowed(user, verb, resource, ns string, want bool) func() error {
	return func() error {
		got, err := allowed(user, verb, resource, ns)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s may %s %s in %q: got %t, want %t", user, verb, resource, ns, got, want)
		}
		return nil
	}
}

// expectCondition checks a condition of a freshly read object.
func expectCondition(obj client.Object, typ string, status metav1.ConditionStatus, reason string) func() error {
	return func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		var conds []metav1.Condition
		switch o := obj.(type) {
		case *scimv1.ScimUser:
			conds = o.Status.Conditions
		case *scimv1.ScimGroup:
			conds = o.Status.Conditions
		case *scimv1.ScimGroupBinding:
			conds = o.Status.Conditions
		}
		c := meta.FindStatusCondition(conds, typ)
		if c == nil || c.Status != status || (reason != "" && c.Reason != reason) {
			return fmt.Errorf("%s condition %s: got %+v, want %s/%s", obj.GetName(), typ, c, status, reason)
		}
		return nil
	}
}

func setActive(t *testing.T, u *scimv1.ScimUser, active bool) {
	t.Helper()
	update(t, u, func(u *scimv1.ScimUser) {
		u.Spec.Active = ptr.To(active)
		u.Annotations[scimv1.ChangedAtAnnotation] = time.Now().UTC().Format(time.RFC3339Nano)
	})
}

func isConflict(err error) bool { return apierrors.IsConflict(err) }
