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

package authz

import (
	"context"
	"fmt"
	"strings"
	"sync"

	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
)

// saUserPrefix starts the user name of every ServiceAccount identity.
const saUserPrefix = "system:serviceaccount:"

// Reasons given to the API server (and its audit log) with a decision. They name no user.
const (
	reasonInactive  = "kubescim: the user is deactivated"
	reasonDeleted   = "kubescim: the user no longer exists in the identity provider"
	reasonNotSynced = "kubescim: cache not synced yet"
)

// decision is the webhook's answer to one review.
type decision struct {
	denied bool
	reason string
	// err is an evaluation error, reported as no opinion (the API server then asks RBAC).
	err error
}

// label names the decision in metrics.
func (d decision) label() string {
	switch {
	case d.err != nil:
		return "error"
	case d.denied:
		return "denied"
	}
	return "no_opinion"
}

// authorizer decides reviews from the cache.
type authorizer struct {
	users client.Reader // the manager's cache: ScimUsers, indexed by subject name
	bound *boundSubjects
	opts  controllers.Options
}

// decide answers one review. It only ever looks at the user name: groups never lead to a deny,
// so no group membership can lock anyone out.
func (a *authorizer) decide(ctx context.Context, spec *authzv1.SubjectAccessReviewSpec) decision {
	user := spec.User
	if selfReview(spec.ResourceAttributes) {
		return decision{}
	}
	if a.opts.ServiceAccounts && strings.HasPrefix(user, saUserPrefix) {
		return a.decideServiceAccount(ctx, strings.TrimPrefix(user, saUserPrefix))
	}
	if user == "" || strings.HasPrefix(strings.ToLower(user), "system:") || !strings.HasPrefix(user, a.opts.SubjectPrefix) {
		return decision{} // never a name kubescim binds (nameSubject refuses system:*)
	}
	if !a.bound.synced() {
		return decision{err: fmt.Errorf("%s", reasonNotSynced)}
	}
	var users scimv1.ScimUserList
	if err := a.users.List(ctx, &users, client.MatchingFields{controllers.IndexSubjectName: user}, client.UnsafeDisableDeepCopy); err != nil {
		return decision{err: fmt.Errorf("listing ScimUsers by subject: %w", err)}
	}
	for i := range users.Items {
		if live(&users.Items[i]) {
			return decision{}
		}
	}
	switch {
	case len(users.Items) > 0:
		return decision{denied: true, reason: reasonInactive}
	case a.bound.has(rbacv1.Subject{Kind: rbacv1.UserKind, Name: user}):
		return decision{denied: true, reason: reasonDeleted}
	}
	return decision{}
}

// decideServiceAccount answers for "<namespace>:<name>", a ServiceAccount identity. Only the
// per-user ServiceAccounts, named after their ScimUser, are kubescim's.
func (a *authorizer) decideServiceAccount(ctx context.Context, nsName string) decision {
	ns, name, ok := strings.Cut(nsName, ":")
	if !ok || ns != a.opts.ServiceAccountNamespace || name == "" {
		return decision{}
	}
	if !a.bound.synced() {
		return decision{err: fmt.Errorf("%s", reasonNotSynced)}
	}
	var u scimv1.ScimUser
	err := a.users.Get(ctx, client.ObjectKey{Name: name}, &u)
	switch {
	case client.IgnoreNotFound(err) != nil:
		return decision{err: fmt.Errorf("getting ScimUser: %w", err)}
	case err == nil && live(&u):
		return decision{}
	case err == nil:
		return decision{denied: true, reason: reasonInactive}
	case a.bound.has(rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}):
		return decision{denied: true, reason: reasonDeleted}
	}
	return decision{}
}

// selfReview reports whether the request asks what the requester itself may do or who it is
// (kubectl auth can-i, kubectl auth whoami). Those reveal nothing but the requester's own access,
// and answering them lets `kubectl auth can-i` tell a deactivated user "no" rather than fail.
func selfReview(r *authzv1.ResourceAttributes) bool {
	if r == nil || r.Verb != "create" || r.Subresource != "" {
		return false
	}
	switch r.Group + "/" + r.Resource {
	case "authorization.k8s.io/selfsubjectaccessreviews", "authorization.k8s.io/selfsubjectrulesreviews",
		"authentication.k8s.io/selfsubjectreviews":
		return true
	}
	return false
}

// live reports whether u is a user kubescim grants access to.
func live(u *scimv1.ScimUser) bool { return u.Spec.IsActive() && u.DeletionTimestamp.IsZero() }

// boundSubjects counts, per User and ServiceAccount subject, the kubescim-managed RoleBindings
// and ClusterRoleBindings that name it. It is fed by the cache's informers, so a lookup is one
// map access and its size grows with the number of distinct subjects, not with bindings times
// subjects (which a field index would hold).
type boundSubjects struct {
	mu     sync.RWMutex
	counts map[string]int
	// syncs are the informer registrations' HasSynced; nil until registered.
	syncs []toolscache.InformerSynced
}

func newBoundSubjects() *boundSubjects { return &boundSubjects{counts: map[string]int{}} }

func boundKey(s rbacv1.Subject) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		return s.Kind + "/" + s.Namespace + "/" + s.Name
	}
	return s.Kind + "/" + s.Name
}

func (b *boundSubjects) has(s rbacv1.Subject) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.counts[boundKey(s)] > 0
}

func (b *boundSubjects) synced() bool {
	b.mu.RLock()
	syncs := b.syncs
	b.mu.RUnlock()
	if syncs == nil {
		return false
	}
	for _, s := range syncs {
		if !s() {
			return false
		}
	}
	return true
}

// managedSubjects returns the subjects of a kubescim-managed binding, else nil.
func managedSubjects(obj any) []rbacv1.Subject {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	var o client.Object
	var subjects []rbacv1.Subject
	switch b := obj.(type) {
	case *rbacv1.RoleBinding:
		o, subjects = b, b.Subjects
	case *rbacv1.ClusterRoleBinding:
		o, subjects = b, b.Subjects
	default:
		return nil
	}
	if o.GetLabels()[scimv1.ManagedByLabel] != scimv1.ManagedByValue {
		return nil
	}
	return subjects
}

// add adds delta (1 or -1) for every User and ServiceAccount subject of obj.
func (b *boundSubjects) add(obj any, delta int) {
	subjects := managedSubjects(obj)
	if len(subjects) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range subjects {
		if s.Kind != rbacv1.UserKind && s.Kind != rbacv1.ServiceAccountKind {
			continue
		}
		k := boundKey(s)
		if n := b.counts[k] + delta; n > 0 {
			b.counts[k] = n
		} else {
			delete(b.counts, k)
		}
	}
}

// handler keeps the counts in step with an informer of RoleBindings or ClusterRoleBindings.
func (b *boundSubjects) handler() toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { b.add(obj, 1) },
		UpdateFunc: func(oldObj, newObj any) {
			b.add(newObj, 1)
			b.add(oldObj, -1)
		},
		DeleteFunc: func(obj any) { b.add(obj, -1) },
	}
}
