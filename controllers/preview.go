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
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Read-only entry points for tools (the kubectl-scim plugin): what a ScimGroupBinding would
// grant, what a user has, who is in a group. They run the binding reconciler's own evaluation
// (membership, namespace selection, subject naming, the bindable-role guard and the other
// refusals) on any client.Reader, a plain API client included, and never write.

// ErrNotFound is returned by AccessOf and MembersOf when the user or group does not exist.
var ErrNotFound = errors.New("not found")

// Plan is what applying a ScimGroupBinding would change in the cluster's RBAC.
type Plan struct {
	// Binding is the ScimGroupBinding's name; its current RoleBindings are the baseline.
	Binding string `json:"binding"`
	// Role is the role the binding grants, "Kind/Name".
	Role string `json:"role"`
	// Refused says why the binding would grant nothing; nil when it would be put into effect.
	Refused *Refusal `json:"refused,omitempty"`
	// Namespaces are the namespaces the binding would apply to (none for cluster scope).
	Namespaces []string `json:"namespaces"`
	// Grant and Revoke are the subject changes, sorted by namespace, role and subject.
	Grant  []Change `json:"grant"`
	Revoke []Change `json:"revoke"`
	// Unchanged counts the grants that stay as they are.
	Unchanged int `json:"unchanged"`
	// Skipped are the groups the binding selects but would grant nothing (a namespaceTemplate
	// that makes no valid or no existing namespace), as status.matchedGroups lists them.
	Skipped []scimv1.GroupMatch `json:"skipped,omitempty"`
}

// Changed reports whether applying the binding would grant or revoke anything.
func (p Plan) Changed() bool { return len(p.Grant)+len(p.Revoke) > 0 }

// Refusal is why a binding grants nothing: a Ready condition reason and its message.
type Refusal struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Change is one subject gaining or losing a role in one place.
type Change struct {
	// Namespace is where; empty for a ClusterRoleBinding (cluster-wide).
	Namespace string `json:"namespace,omitempty"`
	// Role is the bound role, "Kind/Name".
	Role    string         `json:"role"`
	Subject rbacv1.Subject `json:"subject"`
	// User is the userName of the ScimUser the subject stands for, when known.
	User string `json:"user,omitempty"`
}

// readOnlyReconciler is a binding reconciler that can evaluate but has nothing to write with.
func readOnlyReconciler(ctx context.Context, c client.Reader, opts Options) (*ScimGroupBindingReconciler, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	snap, err := newSnapshot(ctx, c, opts)
	if err != nil {
		return nil, err
	}
	return &ScimGroupBindingReconciler{reader: snap, live: snap, opts: opts, members: membership{reader: snap}}, nil
}

// Preview computes what applying b would grant and revoke, against the RoleBindings and
// ClusterRoleBindings that the ScimGroupBinding of b's name holds now, from the objects c
// reads. A refused binding revokes everything (it fails closed). The API server's escalation
// check, which only a write can ask, is not part of the preview.
func Preview(ctx context.Context, c client.Reader, b *scimv1.ScimGroupBinding, opts Options) (Plan, error) {
	r, err := readOnlyReconciler(ctx, c, opts)
	if err != nil {
		return Plan{}, err
	}
	role := RoleName{Kind: b.Spec.RoleRef.Kind, Name: b.Spec.RoleRef.Name}
	plan := Plan{Binding: b.Name, Role: role.String(), Namespaces: []string{}, Grant: []Change{}, Revoke: []Change{}}
	ev, err := r.evaluate(ctx, b)
	if err != nil {
		return Plan{}, fmt.Errorf("cannot tell who would have access where: %w", err)
	}
	if ev.refused != nil {
		plan.Refused = &Refusal{Reason: ev.refused.reason, Message: ev.refused.message}
	}
	plan.Namespaces = append(plan.Namespaces, namespacesOf(ev.units())...)
	for _, m := range ev.matches {
		if m.Skipped != "" {
			plan.Skipped = append(plan.Skipped, m)
		}
	}
	existing, err := r.existingBindings(ctx, b.Name)
	if err != nil {
		return Plan{}, err
	}
	for _, p := range planUnits(b, ev.grants, existing) {
		had, want := grantsOf(p.unit, mapValues(p.existing)), grantsOf(p.unit, p.desired)
		for k, ch := range want {
			if _, ok := had[k]; ok {
				plan.Unchanged++
			} else {
				plan.Grant = append(plan.Grant, ch)
			}
		}
		for k, ch := range had {
			if _, ok := want[k]; !ok {
				plan.Revoke = append(plan.Revoke, ch)
			}
		}
	}
	for i := range plan.Grant {
		plan.Grant[i].User = ev.owners[subjectKey(plan.Grant[i].Subject)].userName
	}
	for i := range plan.Revoke {
		plan.Revoke[i].User = r.userNameOf(ctx, plan.Revoke[i].Subject)
	}
	sortChanges(plan.Grant)
	sortChanges(plan.Revoke)
	return plan, nil
}

// grantsOf returns the (role, subject) pairs that objs grant in unit, keyed.
func grantsOf(unit string, objs []client.Object) map[string]Change {
	out := map[string]Change{}
	for _, o := range objs {
		ref, subjects := bindingParts(o)
		role := RoleName{Kind: ref.Kind, Name: ref.Name}.String()
		for _, s := range *subjects {
			out[role+"|"+subjectKey(s)] = Change{Namespace: unit, Role: role, Subject: s}
		}
	}
	return out
}

func mapValues(m map[string]client.Object) []client.Object {
	out := make([]client.Object, 0, len(m))
	for _, o := range m {
		out = append(out, o)
	}
	return out
}

func sortChanges(cs []Change) {
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Role != b.Role {
			return a.Role < b.Role
		}
		return subjectKey(a.Subject) < subjectKey(b.Subject)
	})
}

// userNameOf finds the userName of the ScimUser a subject stands for, "" when none does.
func (r *ScimGroupBindingReconciler) userNameOf(ctx context.Context, s rbacv1.Subject) string {
	switch s.Kind {
	case rbacv1.UserKind:
		var users scimv1.ScimUserList
		if err := r.reader.List(ctx, &users, client.MatchingFields{indexSubjectName: s.Name}); err == nil && len(users.Items) == 1 {
			return users.Items[0].Spec.UserName
		}
	case rbacv1.ServiceAccountKind:
		var u scimv1.ScimUser
		if err := r.reader.Get(ctx, client.ObjectKey{Name: s.Name}, &u); err == nil {
			return u.Spec.UserName
		}
	}
	return ""
}
