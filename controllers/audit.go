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
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// maxPropagationAge bounds the changes measured by kubescim_rbac_propagation_seconds: an older
// changed-at belongs to an earlier change, not to the write being measured.
const maxPropagationAge = 10 * time.Minute

// tombstoneTTL is how long the subjects of a deleted user are remembered for the audit log.
const tombstoneTTL = 10 * time.Minute

// Where the user named by an audit line comes from (its userSource field).
const (
	// userFromScimUser: the ScimUser itself (live or being deleted).
	userFromScimUser = "ScimUser"
	// userFromDeletedScimUser: what was remembered when the ScimUser's deletion was observed.
	userFromDeletedScimUser = "deletedScimUser"
	// userFromSubject: no ScimUser could be found (deleted while kubescim was not running, or
	// the lookup failed); the line carries what the subject itself says.
	userFromSubject = "subject"
)

// subjectOwner is who a subject stands for, as far as the audit log is concerned.
type subjectOwner struct {
	userID    string
	userName  string
	changedBy string
	changedAt time.Time
	// source says where the above comes from (userFrom*).
	source string
	// lookupErr is why looking the user up failed, if it did.
	lookupErr error
}

func ownerOf(u *scimv1.ScimUser) subjectOwner {
	o := subjectOwner{userID: scimv1.ScimID(u), userName: u.Spec.UserName, changedBy: u.Annotations[scimv1.ChangedByAnnotation],
		source: userFromScimUser}
	if t, err := time.Parse(time.RFC3339Nano, u.Annotations[scimv1.ChangedAtAnnotation]); err == nil {
		o.changedAt = t
	}
	return o
}

type tombstone struct {
	owner   subjectOwner
	expires time.Time
}

// auditor writes the audit trail of access changes: one structured log line per subject and
// change (logger "audit"), the kubescim_rbac_propagation_seconds histogram, and the change
// counter. The audit line carries the userName: an audit log exists to say who got or lost
// access, so it is the one place personal data is logged at info level. Tokens never are; the
// line names the SCIM token only by its name (the changed-by annotation).
type auditor struct {
	log    logr.Logger
	reader client.Reader
	opts   Options
	now    func() time.Time

	mu         sync.Mutex
	tombstones map[string]tombstone // by subjectKey
}

func newAuditor(log logr.Logger, reader client.Reader, opts Options) *auditor {
	return &auditor{log: log, reader: reader, opts: opts, now: time.Now, tombstones: map[string]tombstone{}}
}

// userDeleted remembers a deleted user's subjects, stamped with the time the deletion was
// observed, so that their removal is attributed and timed.
func (a *auditor) userDeleted(u *scimv1.ScimUser) {
	owner := ownerOf(u)
	owner.changedAt = a.now()
	owner.source = userFromDeletedScimUser
	live, active := *u, true
	live.Spec.Active = &active // the subjects it had while it lived
	live.DeletionTimestamp = nil
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, t := range a.tombstones {
		if owner.changedAt.After(t.expires) {
			delete(a.tombstones, k)
		}
	}
	for _, s := range userSubjects(&live, a.opts) {
		a.tombstones[subjectKey(s)] = tombstone{owner: owner, expires: owner.changedAt.Add(tombstoneTTL)}
	}
}

// ownerOfSubject finds the user behind a subject that is no longer desired: a live user (found
// through the subject-name index, or by ServiceAccount name), else a recently deleted one, else
// what the subject itself says. A failed lookup is never silent: the error goes into the owner
// (and so into the audit line), and the fallbacks still name the user.
func (a *auditor) ownerOfSubject(ctx context.Context, s rbacv1.Subject) subjectOwner {
	u, err := a.liveUser(ctx, s)
	if u != nil {
		return ownerOf(u)
	}
	a.mu.Lock()
	t, remembered := a.tombstones[subjectKey(s)]
	a.mu.Unlock()
	owner := t.owner
	if !remembered {
		owner = a.ownerFromSubject(s)
	}
	owner.lookupErr = err
	return owner
}

// liveUser returns the ScimUser a subject belongs to, or nil when there is none.
func (a *auditor) liveUser(ctx context.Context, s rbacv1.Subject) (*scimv1.ScimUser, error) {
	switch s.Kind {
	case rbacv1.UserKind:
		var users scimv1.ScimUserList
		if err := a.reader.List(ctx, &users, client.MatchingFields{indexSubjectName: s.Name}, readOnly); err != nil {
			return nil, fmt.Errorf("listing ScimUsers with subject %s: %w", s.Name, err)
		}
		if len(users.Items) > 0 {
			return &users.Items[0], nil
		}
	case rbacv1.ServiceAccountKind:
		var u scimv1.ScimUser
		err := a.reader.Get(ctx, client.ObjectKey{Name: s.Name}, &u)
		if err == nil {
			return &u, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("getting ScimUser %s: %w", s.Name, err)
		}
	}
	return nil, nil
}

// ownerFromSubject is what a subject says about its user. A User subject made from userNames is
// the userName behind the configured prefix; an email or externalId is not a userName, and a
// ServiceAccount is named after the ScimUser object, so those are named by the subject alone,
// which the audit line always carries.
func (a *auditor) ownerFromSubject(s rbacv1.Subject) subjectOwner {
	o := subjectOwner{source: userFromSubject}
	if s.Kind == rbacv1.UserKind && a.opts.SubjectAttribute == SubjectUserName {
		o.userName = strings.TrimPrefix(s.Name, a.opts.SubjectPrefix)
	}
	return o
}

// accessChange is one subject added to or removed from a binding's RoleBindings.
type accessChange struct {
	granted    bool
	subject    rbacv1.Subject
	owner      subjectOwner
	namespaces []string // "" stands for cluster-wide
}

// record logs and measures changes that were written for binding b.
func (a *auditor) record(b *scimv1.ScimGroupBinding, changes []accessChange) {
	now := a.now()
	role := b.Spec.RoleRef.Kind + "/" + b.Spec.RoleRef.Name
	for _, c := range changes {
		change := "revoked"
		if c.granted {
			change = "granted"
		}
		kv := []any{
			"change", change,
			"userId", c.owner.userID,
			"userName", c.owner.userName,
			"userSource", c.owner.source,
			"subjectKind", c.subject.Kind,
			"subject", subjectDisplay(c.subject),
			"namespaces", c.namespaces,
			"role", role,
			"group", b.Spec.Group,
			"binding", b.Name,
			"changedBy", c.owner.changedBy,
		}
		if b.Spec.GroupPattern != "" {
			kv = append(kv, "groupPattern", b.Spec.GroupPattern)
		}
		if c.owner.lookupErr != nil {
			kv = append(kv, "userLookupError", c.owner.lookupErr.Error())
		}
		a.log.Info("Access "+change, kv...)
		accessChangesTotal.WithLabelValues(change).Inc()
		if !c.owner.changedAt.IsZero() {
			if age := now.Sub(c.owner.changedAt); age >= 0 && age < maxPropagationAge {
				propagationSeconds.WithLabelValues(change).Observe(age.Seconds())
			}
		}
	}
}

func subjectDisplay(s rbacv1.Subject) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		return s.Namespace + "/" + s.Name
	}
	return s.Name
}
