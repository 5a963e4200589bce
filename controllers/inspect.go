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
	"maps"
	"slices"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Access is what one user has through kubescim.
type Access struct {
	// User is the ScimUser object name; UserName and ID its SCIM userName and id.
	User     string `json:"user"`
	UserName string `json:"userName"`
	ID       string `json:"id"`
	Active   bool   `json:"active"`
	// Subjects are the RBAC subjects that stand for the user; none when it is inactive or its
	// subject name is refused (NoAccess says why).
	Subjects []rbacv1.Subject `json:"subjects"`
	// NoAccess says why the user has no access at all; empty otherwise.
	NoAccess string `json:"noAccess,omitempty"`
	// Grants are sorted by namespace (cluster-wide first), role and binding.
	Grants []Grant `json:"grants"`
}

// Grant is one role in one place and what gives it.
type Grant struct {
	// Namespace is empty for a cluster-wide grant (a ClusterRoleBinding).
	Namespace string `json:"namespace,omitempty"`
	Role      string `json:"role"`
	// Binding is the ScimGroupBinding and Group the displayName of the group it binds.
	Binding string `json:"binding"`
	Group   string `json:"group"`
	// Via is the chain of group displayNames from the user's own group up to Group; just
	// Group for a direct member.
	Via []string `json:"via"`
}

// AccessOf reports every role that ScimGroupBindings give user (a ScimUser object name,
// userName or SCIM id), computed as the binding reconciler computes it: a binding that would be
// refused gives nothing, an inactive user or one with a refused subject name has nothing.
// It returns ErrNotFound when no such user exists.
func AccessOf(ctx context.Context, c client.Reader, user string, opts Options) (Access, error) {
	r, err := readOnlyReconciler(ctx, c, opts)
	if err != nil {
		return Access{}, err
	}
	u, err := findUser(ctx, r.reader, user)
	if err != nil {
		return Access{}, err
	}
	a := Access{User: u.Name, UserName: u.Spec.UserName, ID: scimv1.ScimID(u), Active: u.Spec.IsActive(),
		Subjects: userSubjects(u, r.opts), Grants: []Grant{}}
	if a.Subjects == nil {
		a.Subjects = []rbacv1.Subject{}
	}
	switch v := nameSubject(u, r.opts); {
	case !a.Active:
		a.NoAccess = "the user is inactive: kubescim grants it nothing"
	case !u.DeletionTimestamp.IsZero():
		a.NoAccess = "the user is being deleted: kubescim grants it nothing"
	case !v.valid():
		a.NoAccess = "the user's subject name is refused (" + v.reason + "): " + v.message
	}
	if a.NoAccess != "" {
		return a, nil
	}
	mine := map[string]bool{}
	for _, s := range a.Subjects {
		mine[subjectKey(s)] = true
	}
	var bindings scimv1.ScimGroupBindingList
	if err := r.reader.List(ctx, &bindings); err != nil {
		return Access{}, fmt.Errorf("listing ScimGroupBindings: %w", err)
	}
	for i := range bindings.Items {
		b := &bindings.Items[i]
		ev, err := r.evaluate(ctx, b)
		if err != nil {
			return Access{}, fmt.Errorf("evaluating ScimGroupBinding %s: %w", b.Name, err)
		}
		if ev.refused != nil {
			continue
		}
		role := RoleName{Kind: b.Spec.RoleRef.Kind, Name: b.Spec.RoleRef.Name}.String()
		for _, g := range ev.grants {
			if !slices.ContainsFunc(g.subjects, func(s rbacv1.Subject) bool { return mine[subjectKey(s)] }) {
				continue
			}
			via, err := r.members.pathUp(ctx, u, g.groups)
			if err != nil {
				return Access{}, err
			}
			group := b.Spec.Group
			if group == "" && len(via) > 0 {
				group = via[len(via)-1] // the group the pattern matched
			}
			a.Grants = append(a.Grants, Grant{Namespace: g.unit, Role: role, Binding: b.Name, Group: group, Via: via})
		}
	}
	sort.Slice(a.Grants, func(i, j int) bool {
		x, y := a.Grants[i], a.Grants[j]
		if x.Namespace != y.Namespace {
			return x.Namespace < y.Namespace
		}
		if x.Role != y.Role {
			return x.Role < y.Role
		}
		return x.Binding < y.Binding
	})
	return a, nil
}

// findUser returns the live user whose object name, userName (case-insensitively) or SCIM id
// is key.
func findUser(ctx context.Context, c client.Reader, key string) (*scimv1.ScimUser, error) {
	var u scimv1.ScimUser
	if err := c.Get(ctx, client.ObjectKey{Name: key}, &u); err == nil {
		return &u, nil
	} else if client.IgnoreNotFound(err) != nil {
		return nil, fmt.Errorf("getting ScimUser %s: %w", key, err)
	}
	for _, by := range []client.MatchingFields{{scimv1.IndexUserName: scimv1.FoldKey(key)}, {scimv1.IndexUID: key}} {
		var list scimv1.ScimUserList
		if err := c.List(ctx, &list, by); err != nil {
			return nil, fmt.Errorf("listing ScimUsers: %w", err)
		}
		if len(list.Items) == 1 {
			return &list.Items[0], nil
		}
		if len(list.Items) > 1 {
			return nil, fmt.Errorf("%d ScimUsers match %q: name one by object name", len(list.Items), key)
		}
	}
	return nil, fmt.Errorf("ScimUser %q: %w", key, ErrNotFound)
}

// pathUp returns the displayNames from one of u's groups up to one of targets, walking
// memberOf breadth-first as ancestors does (the shortest chain; deleted groups end a branch).
func (m membership) pathUp(ctx context.Context, u *scimv1.ScimUser, targets []*scimv1.ScimGroup) ([]string, error) {
	target := map[string]bool{}
	for _, g := range targets {
		target[g.Name] = true
	}
	type step struct {
		name string
		path []string
	}
	seen := map[string]bool{}
	var queue []step
	for _, g := range u.Spec.MemberOf {
		queue = append(queue, step{name: g})
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if seen[s.name] {
			continue
		}
		seen[s.name] = true
		g, err := m.group(ctx, s.name)
		if err != nil {
			return nil, err
		}
		if g == nil {
			continue
		}
		path := append(slices.Clone(s.path), g.Spec.DisplayName)
		if target[g.Name] {
			return path, nil
		}
		for _, parent := range g.Spec.MemberOf {
			queue = append(queue, step{name: parent, path: path})
		}
	}
	return nil, nil
}

// Members lists who is in a group, directly and through nested groups.
type Members struct {
	// Group is the displayName; Groups the object names of the groups with it (normally one).
	Group  string   `json:"group"`
	Groups []string `json:"groups"`
	Users  []Member `json:"users"`
	// Nested are the groups reached through nesting, with the group they are a member of.
	Nested []Member `json:"nested"`
}

// Member is one user or nested group and the group it was reached through.
type Member struct {
	// Name is the object name; DisplayName the userName or group displayName.
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	// Active is the user's active flag (always true for groups).
	Active bool `json:"active"`
	// Direct is true for a member of the group itself; Via names the group it is in.
	Direct bool   `json:"direct"`
	Via    string `json:"via"`
}

// MembersOf lists the users and nested groups of group (a ScimGroup object name or
// displayName), walked as the binding reconciler walks them (cycles once, deleted members
// gone). A user in several groups is listed once, through the group nearest the top; users
// and nested groups are sorted by displayName.
// It returns ErrNotFound when no such group exists.
func MembersOf(ctx context.Context, c client.Reader, group string, opts Options) (Members, error) {
	r, err := readOnlyReconciler(ctx, c, opts)
	if err != nil {
		return Members{}, err
	}
	m := r.members
	roots, err := m.groupsNamed(ctx, group)
	if err != nil {
		return Members{}, err
	}
	if len(roots) == 0 {
		g, err := m.group(ctx, group)
		if err != nil {
			return Members{}, err
		}
		if g == nil {
			return Members{}, fmt.Errorf("ScimGroup %q: %w", group, ErrNotFound)
		}
		roots = []*scimv1.ScimGroup{g}
	}
	out := Members{Group: roots[0].Spec.DisplayName, Groups: []string{}, Users: []Member{}, Nested: []Member{}}
	isRoot := map[string]bool{}
	queue := []*scimv1.ScimGroup{}
	for _, g := range roots {
		out.Groups = append(out.Groups, g.Name)
		isRoot[g.Name] = true
		queue = append(queue, g)
	}
	seenGroups := maps.Clone(isRoot) // groups queued, so each is listed and walked once
	seenUsers := map[string]bool{}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		users, groups, err := m.directMembers(ctx, g.Name)
		if err != nil {
			return Members{}, err
		}
		for _, u := range users {
			if !seenUsers[u.Name] {
				seenUsers[u.Name] = true
				out.Users = append(out.Users, Member{Name: u.Name, DisplayName: u.Spec.UserName, Active: u.Spec.IsActive(),
					Direct: isRoot[g.Name], Via: g.Spec.DisplayName})
			}
		}
		for _, sub := range groups {
			if !seenGroups[sub.Name] {
				seenGroups[sub.Name] = true
				out.Nested = append(out.Nested, Member{Name: sub.Name, DisplayName: sub.Spec.DisplayName, Active: true,
					Direct: isRoot[g.Name], Via: g.Spec.DisplayName})
				queue = append(queue, sub)
			}
		}
	}
	sort.Slice(out.Users, func(i, j int) bool { return out.Users[i].DisplayName < out.Users[j].DisplayName })
	sort.Slice(out.Nested, func(i, j int) bool { return out.Nested[i].DisplayName < out.Nested[j].DisplayName })
	return out, nil
}
