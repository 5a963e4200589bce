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
	"slices"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// holdFinalizer keeps an object in the "being deleted" state for as long as a test needs.
const holdFinalizer = "kubescim.test/hold"

// notReadyFixture is a binding of one group in two namespaces whose three members all have
// access: keep stays a member, leaver is deactivated and gone is deleted while the binding is in
// the state under test. Every object is named after the row.
type notReadyFixture struct {
	name, partition, prefix string
	ns                      [2]string
	group                   *scimv1.ScimGroup
	binding                 *scimv1.ScimGroupBinding
	keep, leaver, gone      *scimv1.ScimUser
}

// notReadyRow is one state a binding can reach in which it is not (fully) in effect.
type notReadyRow struct {
	name      string
	partition string
	role      string // ClusterRole to bind; readerRole when empty
	// reason is the Ready=False reason of the state; empty when the binding has no status to
	// show (it is being deleted).
	reason string
	// prepare runs before the binding is created; enter puts it into the state; heal takes it
	// out again (nil: the state is final).
	prepare, enter, heal func(t *testing.T, f *notReadyFixture)
	// grants are the namespaces (indexes into ns) where members who are still wanted keep access
	// in the state; grantsAfterRevocation the same once a member was deactivated and one deleted.
	// Empty for every state that refuses the binding as a whole.
	grants, grantsAfterRevocation []int
	// serial rows change state that other rows' managers share (the faulty reads).
	serial bool
}

// TestNotReadyBindingKeepsNoAccessThatShouldGo puts a binding into every state in which it is
// not Ready and proves with the API server's authorizer that (a) entering the state takes away
// what the state refuses, and (b) a member deactivated or deleted while the binding is in it has
// no access anywhere, then or after the binding recovers.
func TestNotReadyBindingKeepsNoAccessThatShouldGo(t *testing.T) {
	rows := []notReadyRow{
		{
			name: "role-not-allowed", reason: scimv1.RoleNotAllowedReason,
			enter: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.RoleRef.Name = "not-in-the-allow-list" })
			},
			heal: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.RoleRef.Name = readerRole })
			},
		},
		{
			// The CRD schema accepts an In expression without values; it cannot be evaluated.
			name: "selector-invalid", reason: scimv1.InvalidNamespaceSelectorReason,
			enter: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) {
					b.Spec.NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
						{Key: "team", Operator: metav1.LabelSelectorOpIn, Values: []string{}},
					}}
				})
			},
			heal: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.NamespaceSelector = nil })
			},
		},
		{
			name: "group-not-found", reason: scimv1.GroupNotFoundReason,
			enter: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.Group = "no such group" })
			},
			heal: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.Group = f.group.Spec.DisplayName })
			},
		},
		{
			// RE2 syntax is not checked by the CRD schema: an unclosed group compiles nowhere.
			name: "pattern-invalid", reason: scimv1.InvalidGroupPatternReason,
			enter: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.Group, b.Spec.GroupPattern = "", "(" })
			},
			heal: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.Group, b.Spec.GroupPattern = f.group.Spec.DisplayName, "" })
			},
		},
		{
			// A fleet binding grants in the members that mirror it, never where it is written.
			name: "fleet-binding", reason: scimv1.AppliesInMembersReason,
			enter: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.MemberSelector = &metav1.LabelSelector{} })
			},
			heal: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.MemberSelector = nil })
			},
		},
		{
			name: "expired", reason: scimv1.ExpiredReason,
			enter: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) {
					b.Spec.ExpiresAt = ptr.To(metav1.NewTime(time.Now().Add(-time.Minute)))
				})
			},
			heal: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.ExpiresAt = nil })
			},
		},
		{
			name: "not-yet-active", reason: scimv1.NotYetActiveReason,
			enter: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.NotBefore = ptr.To(metav1.NewTime(time.Now().Add(time.Hour))) })
			},
			heal: func(t *testing.T, f *notReadyFixture) {
				update(t, f.binding, func(b *scimv1.ScimGroupBinding) { b.Spec.NotBefore = nil })
			},
		},
		{
			name: "group-being-deleted", reason: scimv1.GroupNotFoundReason,
			enter: func(t *testing.T, f *notReadyFixture) { deleteHeld(t, f.group) },
		},
		{
			// The API server's escalation check refuses the writes once kubescim's identity may
			// no longer bind the role, also the writes that would only remove a subject.
			name: "forbidden", partition: "restricted", role: matrixRole, reason: scimv1.RoleNotAllowedReason,
			prepare: func(t *testing.T, f *notReadyFixture) {
				mustCreate(t, &rbacv1.ClusterRole{
					ObjectMeta: metav1.ObjectMeta{Name: f.name + "-bind"},
					Rules: []rbacv1.PolicyRule{{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"},
						Verbs: []string{"bind"}, ResourceNames: []string{matrixRole}}},
				})
				grantBind(t, f)
			},
			enter: func(t *testing.T, f *notReadyFixture) {
				if err := k8s.Delete(context.Background(), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: f.name + "-bind"}}); err != nil {
					t.Fatal(err)
				}
				eventually(t, "bind permission gone", expectMayBind(restrictedUser, matrixRole, false))
				f.trigger(t, "trigger")
			},
			heal: func(t *testing.T, f *notReadyFixture) {
				grantBind(t, f)
				f.trigger(t, "healer")
			},
		},
		{
			name: "members-unreadable", partition: "faulty", reason: scimv1.EvaluationFailedReason, serial: true,
			enter: func(t *testing.T, f *notReadyFixture) {
				f.readFault(t, &scimv1.ScimUserList{})
			},
			heal: func(t *testing.T, f *notReadyFixture) { f.heal(t) },
		},
		{
			name: "namespaces-unreadable", partition: "faulty", reason: scimv1.EvaluationFailedReason, serial: true,
			enter: func(t *testing.T, f *notReadyFixture) {
				f.readFault(t, &corev1.NamespaceList{})
			},
			heal: func(t *testing.T, f *notReadyFixture) { f.heal(t) },
		},
		{
			// Writes in the second namespace fail (an admission policy refuses them): the first
			// namespace stays in effect, and the second keeps nobody who should go.
			name: "write-fails", reason: scimv1.ApplyFailedReason,
			grants: []int{0, 1}, grantsAfterRevocation: []int{0},
			enter: func(t *testing.T, f *notReadyFixture) {
				refuseWrites(t, f)
				f.trigger(t, "trigger")
			},
			heal: func(t *testing.T, f *notReadyFixture) {
				ctx := context.Background()
				if err := k8s.Delete(ctx, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: f.name}}); err != nil {
					t.Fatal(err)
				}
				eventually(t, "writes admitted again", expectWritesRefused(f, false))
				f.trigger(t, "healer")
			},
		},
		{
			name:  "binding-being-deleted",
			enter: func(t *testing.T, f *notReadyFixture) { deleteHeld(t, f.binding) },
		},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			if !row.serial {
				t.Parallel()
			}
			f := setupNotReady(t, row)
			all := []*scimv1.ScimUser{f.keep, f.leaver, f.gone}

			row.enter(t, f)
			if row.reason != "" {
				eventually(t, "binding not ready", expectCondition(f.binding, scimv1.ReadyCondition, metav1.ConditionFalse, row.reason))
			}
			f.expectAccess(t, "(a) entering the state", row.grants, all...)

			setActive(t, f.leaver, false)
			if err := k8s.Delete(context.Background(), f.gone); err != nil {
				t.Fatal(err)
			}
			f.expectAccess(t, "(b) deactivated and deleted in the state", nil, f.leaver, f.gone)
			f.expectAccess(t, "(b) the member who stays", row.grantsAfterRevocation, f.keep)
			if row.reason != "" {
				eventually(t, "binding still not ready", expectCondition(f.binding, scimv1.ReadyCondition, metav1.ConditionFalse, row.reason))
			}

			if row.heal == nil {
				return
			}
			row.heal(t, f)
			eventually(t, "binding ready again", expectCondition(f.binding, scimv1.ReadyCondition, metav1.ConditionTrue, scimv1.ReconciledReason))
			f.expectAccess(t, "recovered", []int{0, 1}, f.keep)
			f.expectAccess(t, "recovered", nil, f.leaver, f.gone)
		})
	}
}

func setupNotReady(t *testing.T, row notReadyRow) *notReadyFixture {
	t.Helper()
	f := &notReadyFixture{name: "nr-" + row.name, partition: row.partition}
	if row.partition == "" {
		f.prefix = mainOptions.SubjectPrefix
	}
	for i := range f.ns {
		f.ns[i] = newNamespace(t, fmt.Sprintf("%s-%c", f.name, 'a'+i), nil).Name
	}
	f.group = newGroup(t, row.partition, f.name)
	if row.prepare != nil {
		row.prepare(t, f)
	}
	role := row.role
	if role == "" {
		role = readerRole
	}
	f.binding = &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: f.name, Labels: suiteLabels(row.partition)},
		Spec: scimv1.ScimGroupBindingSpec{Group: f.group.Spec.DisplayName, Namespaces: f.ns[:],
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: role}},
	}
	mustCreate(t, f.binding)
	f.keep = newUser(t, row.partition, f.name+"-keep", f.group.Name)
	f.leaver = newUser(t, row.partition, f.name+"-leaver", f.group.Name)
	f.gone = newUser(t, row.partition, f.name+"-gone", f.group.Name)
	f.expectAccess(t, "set up", []int{0, 1}, f.keep, f.leaver, f.gone)
	eventually(t, "binding ready", expectCondition(f.binding, scimv1.ReadyCondition, metav1.ConditionTrue, scimv1.ReconciledReason))
	return f
}

// expectAccess waits until each user may read pods in exactly the namespaces listed.
func (f *notReadyFixture) expectAccess(t *testing.T, when string, namespaces []int, users ...*scimv1.ScimUser) {
	t.Helper()
	for _, u := range users {
		for i, ns := range f.ns {
			want := slices.Contains(namespaces, i)
			eventually(t, fmt.Sprintf("%s: %s's access in %s", when, u.Spec.UserName, ns), expectAllowed(f.prefix+u.Spec.UserName, "get", "pods", ns, want))
		}
	}
}

// trigger adds a member to the group, so that the binding is reconciled now.
func (f *notReadyFixture) trigger(t *testing.T, who string) {
	t.Helper()
	newUser(t, f.partition, f.name+"-"+who, f.group.Name)
}

// readFault makes the faulty manager's reads of list's type fail and triggers a reconcile.
func (f *notReadyFixture) readFault(t *testing.T, list client.ObjectList) {
	t.Helper()
	faults.fail(t, list)
	f.trigger(t, "trigger")
}

// heal ends the read faults and triggers a reconcile.
func (f *notReadyFixture) heal(t *testing.T) {
	t.Helper()
	faults.clear()
	f.trigger(t, "healer")
}

// deleteHeld deletes obj while a finalizer keeps it in the "being deleted" state until the test
// ends.
func deleteHeld[T client.Object](t *testing.T, obj T) {
	t.Helper()
	update(t, obj, func(o T) { o.SetFinalizers(append(o.GetFinalizers(), holdFinalizer)) })
	t.Cleanup(func() {
		eventually(t, "releasing "+obj.GetName(), func() error {
			if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
				return client.IgnoreNotFound(err)
			}
			obj.SetFinalizers(slices.DeleteFunc(obj.GetFinalizers(), func(s string) bool { return s == holdFinalizer }))
			return client.IgnoreNotFound(k8s.Update(context.Background(), obj))
		})
	})
	if err := k8s.Delete(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

// grantBind lets the restricted identity bind matrixRole, and waits until the authorizer agrees.
func grantBind(t *testing.T, f *notReadyFixture) {
	t.Helper()
	mustCreate(t, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: f.name + "-bind"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: f.name + "-bind"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: restrictedUser}},
	})
	eventually(t, "bind permission granted", expectMayBind(restrictedUser, matrixRole, true))
}

func expectMayBind(user, clusterRole string, want bool) func() error {
	return func() error {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "bind", Group: rbacv1.GroupName,
				Resource: "clusterroles", Name: clusterRole},
		}}
		if err := k8s.Create(context.Background(), sar); err != nil {
			return err
		}
		if sar.Status.Allowed != want {
			return fmt.Errorf("%s may bind %s: got %t, want %t", user, clusterRole, sar.Status.Allowed, want)
		}
		return nil
	}
}

// refuseWrites installs an admission policy that refuses creating or updating f's RoleBindings
// in its second namespace (deleting them stays possible), and waits until it is in force.
func refuseWrites(t *testing.T, f *notReadyFixture) {
	t.Helper()
	mustCreate(t, &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: f.name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule: admissionregistrationv1.Rule{APIGroups: []string{rbacv1.GroupName}, APIVersions: []string{"v1"},
						Resources: []string{"rolebindings"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: fmt.Sprintf("!has(object.metadata.labels) || !(%q in object.metadata.labels) || object.metadata.labels[%q] != %q",
					scimv1.BindingLabel, scimv1.BindingLabel, f.name),
				Message: "test policy: writes to these RoleBindings are refused",
			}},
		},
	})
	t.Cleanup(func() {
		ctx := context.Background()
		_ = client.IgnoreNotFound(k8s.Delete(ctx, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: f.name}}))
		_ = client.IgnoreNotFound(k8s.Delete(ctx, &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: f.name}}))
	})
	mustCreate(t, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: f.name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        f.name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{corev1.LabelMetadataName: f.ns[1]}}},
		},
	})
	eventually(t, "writes refused", expectWritesRefused(f, true))
}

// expectWritesRefused probes the admission policy with a dry-run create of one of f's
// RoleBindings in its second namespace.
func expectWritesRefused(f *notReadyFixture, want bool) func() error {
	return func() error {
		probe := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: f.ns[1], Labels: managedLabels(f.name)},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: readerRole},
		}
		err := k8s.Create(context.Background(), probe, client.DryRunAll)
		if err != nil && !apierrors.IsInvalid(err) {
			return err
		}
		if refused := err != nil; refused != want {
			return fmt.Errorf("writes refused: got %t, want %t", refused, want)
		}
		return nil
	}
}

// A user being deleted (its deletion held by a finalizer) has no access, and its audit line
// names it.
func TestUserBeingDeletedHasNoAccess(t *testing.T) {
	ns := newNamespace(t, "userdeleting-a", nil)
	g := newGroup(t, "", "userdeleting-devs")
	b := newBinding(t, "", "userdeleting-read", g, ns.Name)
	sam := newUser(t, "", "sam", g.Name)
	newUser(t, "", "tess", g.Name)
	eventually(t, "bound", expectSubjects(b.Name, ns.Name, "oidc:sam", "oidc:tess"))

	deleteHeld(t, sam)
	eventually(t, "sam unbound", expectSubjects(b.Name, ns.Name, "oidc:tess"))
	eventually(t, "authorizer refuses sam", expectAllowed("oidc:sam", "get", "pods", ns.Name, false))
	eventually(t, "sam's revocation audited", func() error {
		if len(auditSink.matching(`"change":"revoked"`, `"binding":"`+b.Name+`"`, `"userId":"`+string(sam.UID)+`"`, `"userName":"sam"`)) == 0 {
			return fmt.Errorf("no audit line naming sam")
		}
		return nil
	})
	if err := expectCondition(b, scimv1.ReadyCondition, metav1.ConditionTrue, scimv1.ReconciledReason)(); err != nil {
		t.Error(err)
	}
}

// A binding of a namespaced Role writes its RoleBinding also where the Role does not exist (yet):
// it grants nothing there until the Role is created, and revocation works there as anywhere.
func TestRoleMissingInANamespace(t *testing.T) {
	with := newNamespace(t, "rolemissing-a", nil)
	without := newNamespace(t, "rolemissing-b", nil)
	deployer := func(ns string) *rbacv1.Role {
		return &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "deployer", Namespace: ns},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}},
		}
	}
	mustCreate(t, deployer(with.Name))
	g := newGroup(t, "", "rolemissing-devs")
	b := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "rolemissing-deploy"},
		Spec: scimv1.ScimGroupBindingSpec{Group: g.Spec.DisplayName, Namespaces: []string{with.Name, without.Name},
			RoleRef: scimv1.RoleRef{Kind: "Role", Name: "deployer"}},
	}
	mustCreate(t, b)
	uma := newUser(t, "", "uma", g.Name)
	newUser(t, "", "vic", g.Name)

	eventually(t, "granted where the Role exists", expectAllowed("oidc:uma", "get", "secrets", with.Name, true))
	eventually(t, "RoleBinding written where it does not", expectSubjects(b.Name, without.Name, "oidc:uma", "oidc:vic"))
	if err := expectAllowed("oidc:uma", "get", "secrets", without.Name, false)(); err != nil {
		t.Error(err)
	}
	eventually(t, "ready", expectCondition(b, scimv1.ReadyCondition, metav1.ConditionTrue, scimv1.ReconciledReason))

	setActive(t, uma, false)
	eventually(t, "uma unbound where the Role is missing", expectSubjects(b.Name, without.Name, "oidc:vic"))
	eventually(t, "uma refused where the Role exists", expectAllowed("oidc:uma", "get", "secrets", with.Name, false))

	mustCreate(t, deployer(without.Name))
	eventually(t, "the Role, once created, grants the members", expectAllowed("oidc:vic", "get", "secrets", without.Name, true))
	if err := expectAllowed("oidc:uma", "get", "secrets", without.Name, false)(); err != nil {
		t.Error(err)
	}
}
