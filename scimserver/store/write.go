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

package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// conflictBackoff paces the re-read-and-reapply rounds after an update conflict: at most 5
// writes, 10 ms apart and doubling, with jitter, so that writers contending on one object
// spread out instead of retrying in lockstep.
var conflictBackoff = wait.Backoff{Steps: 5, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.5}

// retryConflicts runs fn again, with conflictBackoff, while it fails with a conflict, and
// returns fn's last error as it is: client-go's retry would take a context deadline error
// (a write that timed out) for its own interruption and answer nil.
func retryConflicts(fn func() error) error {
	var last error
	_ = retry.RetryOnConflict(conflictBackoff, func() error {
		last = fn()
		return last
	})
	return last
}

// cacheSyncTimeout bounds how long a write waits for the cache to observe it, so that a GET right
// after a POST (which IdPs do) finds the new resource.
const cacheSyncTimeout = 5 * time.Second

// CreateUser creates a user named after its userName. The API server's name uniqueness makes
// concurrent creates of one userName (also on another replica) succeed exactly once; the others
// are refused NameTaken. The name may instead belong to a user that was renamed since; then
// this user gets a generated name.
func (s *Store) CreateUser(ctx context.Context, spec v1alpha1.ScimUserSpec) (*v1alpha1.ScimUser, error) {
	name := v1alpha1.ObjectNameFor(spec.UserName)
	u := &v1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	err := s.create(ctx, u)
	if apierrors.IsAlreadyExists(err) {
		var existing v1alpha1.ScimUser
		gctx, cancel := context.WithTimeout(ctx, apiTimeout)
		gerr := s.live.Get(gctx, client.ObjectKey{Name: name}, &existing)
		cancel()
		if gerr == nil && live(&existing) && v1alpha1.FoldKey(existing.Spec.UserName) == v1alpha1.FoldKey(spec.UserName) {
			return nil, nameTaken("a User with userName %q already exists", spec.UserName)
		}
		u = &v1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{GenerateName: name + "-"}, Spec: spec}
		err = s.create(ctx, u)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// CreateGroup creates a group named after its displayName, as CreateUser does for users. The
// finalizer is set at creation, so members are cleaned up even if the group is deleted before
// the group controller first sees it.
func (s *Store) CreateGroup(ctx context.Context, spec v1alpha1.ScimGroupSpec) (*v1alpha1.ScimGroup, error) {
	name := v1alpha1.ObjectNameFor(spec.DisplayName)
	meta := metav1.ObjectMeta{Name: name, Finalizers: []string{v1alpha1.GroupFinalizer}}
	g := &v1alpha1.ScimGroup{ObjectMeta: meta, Spec: spec}
	err := s.create(ctx, g)
	if apierrors.IsAlreadyExists(err) {
		var existing v1alpha1.ScimGroup
		gctx, cancel := context.WithTimeout(ctx, apiTimeout)
		gerr := s.live.Get(gctx, client.ObjectKey{Name: name}, &existing)
		cancel()
		if gerr == nil && live(&existing) && v1alpha1.FoldKey(existing.Spec.DisplayName) == v1alpha1.FoldKey(spec.DisplayName) {
			return nil, nameTaken("a Group with displayName %q already exists", spec.DisplayName)
		}
		meta.Name, meta.GenerateName = "", name+"-"
		g = &v1alpha1.ScimGroup{ObjectMeta: meta, Spec: spec}
		err = s.create(ctx, g)
	}
	if err != nil {
		return nil, err
	}
	return g, nil
}

// create creates obj through the API server and waits until the cache has it. A new object
// was created when it was last modified (meta.created equals meta.lastModified). Its SCIM id is
// a new UUID in the id label of the create request itself: one write per create, and every
// replica can read the new object through by id at once.
func (s *Store) create(ctx context.Context, obj client.Object) error {
	StampNew(ctx, obj)
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := s.writer.Create(cctx, obj); err != nil {
		fresh, ok := s.landed(ctx, obj, err)
		if !ok {
			return err
		}
		assign(obj, fresh)
	}
	s.awaitCache(ctx, obj)
	return nil
}

// StampNew gives obj the metadata a SCIM create writes: who and when, creation time, lookup
// labels and a new SCIM id.
func StampNew(ctx context.Context, obj client.Object) {
	stamp(ctx, obj)
	obj.GetLabels()[idLabel] = uuid.NewString()
	ann := obj.GetAnnotations()
	ann[CreatedAtAnnotation] = ann[v1alpha1.ChangedAtAnnotation]
}

// UpdateUser applies mutate to a copy of u and updates it with optimistic concurrency. On a
// conflict it re-reads the user from the API server and re-applies mutate, with client-go's
// conflict backoff (conflictBackoff), unless pre has IfMatch, in which case the conflict is
// PreconditionFailed and never retried. mutate receives a fresh copy each round; its errors
// (ErrUnchanged: nothing to write) abort the update and are returned as they are.
func (s *Store) UpdateUser(ctx context.Context, u *v1alpha1.ScimUser, pre Preconditions, mutate func(*v1alpha1.ScimUser) error) (*v1alpha1.ScimUser, error) {
	return update(ctx, s, u, pre, mutate)
}

// UpdateGroup is UpdateUser for groups.
func (s *Store) UpdateGroup(ctx context.Context, g *v1alpha1.ScimGroup, pre Preconditions, mutate func(*v1alpha1.ScimGroup) error) (*v1alpha1.ScimGroup, error) {
	return update(ctx, s, g, pre, mutate)
}

func update[T client.Object](ctx context.Context, s *Store, obj T, pre Preconditions, mutate func(T) error) (T, error) {
	var zero, written T
	current := obj
	attempts := 0
	err := retryConflicts(func() error {
		attempts++
		if attempts > 1 {
			fresh, err := liveCopy(ctx, s, obj)
			if err != nil {
				return err
			}
			current = fresh
		}
		if err := pre.check(current.GetResourceVersion()); err != nil {
			if attempts > 1 {
				return err
			}
			// The cache may lag behind a write made through another replica: decide on the
			// live version.
			fresh, ferr := liveCopy(ctx, s, obj)
			if ferr != nil {
				return ferr
			}
			if err := pre.check(fresh.GetResourceVersion()); err != nil {
				return err
			}
			current = fresh
		}
		next := current.DeepCopyObject().(T)
		if err := mutate(next); err != nil {
			return err
		}
		stamp(ctx, next)
		uctx, cancel := context.WithTimeout(ctx, apiTimeout)
		err := s.writer.Update(uctx, next)
		cancel()
		if fresh, ok := s.landed(ctx, next, err); ok {
			next, err = fresh.(T), nil
		}
		switch {
		case err == nil:
			written = next
			return nil
		case apierrors.IsConflict(err) && pre.IfMatch != nil:
			return preconditionError()
		}
		return err
	})
	if apierrors.IsConflict(err) {
		return zero, fmt.Errorf("updating %s after %d conflicts: %w", obj.GetName(), attempts, err)
	}
	if err != nil {
		return zero, err
	}
	s.awaitCache(ctx, written)
	return written, nil
}

// readBackTimeout bounds the read-back of a write whose outcome is unknown.
const readBackTimeout = 2 * time.Second

// outcomeUnknown reports whether a failed write may still have landed: the request's (or the
// SCIM server's) deadline cut it, or the API server timed out.
func outcomeUnknown(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err)
}

// landed decides a write of obj that failed with err when the failure leaves its outcome
// unknown: it reads obj back (bounded, also when the request's own time is up) until the API
// server holds obj with this write's stamp, and then returns it. It reports false when err is
// another failure, or the write did not land within readBackTimeout (which may also mean that
// another write followed it): the answer is then err, an unavailable store the client retries.
func (s *Store) landed(ctx context.Context, obj client.Object, err error) (client.Object, bool) {
	if err == nil || !outcomeUnknown(err) || obj.GetName() == "" {
		return nil, false
	}
	want := obj.GetAnnotations()
	fresh := obj.DeepCopyObject().(client.Object)
	found := false
	ctx = context.WithoutCancel(ctx)
	_ = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, readBackTimeout, true, func(ctx context.Context) (bool, error) {
		if err := s.live.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
			return false, nil
		}
		got := fresh.GetAnnotations()
		found = live(fresh) && (obj.GetUID() == "" || fresh.GetUID() == obj.GetUID()) &&
			got[v1alpha1.ChangedAtAnnotation] == want[v1alpha1.ChangedAtAnnotation] &&
			got[v1alpha1.ChangedByAnnotation] == want[v1alpha1.ChangedByAnnotation]
		return found, nil
	})
	if found {
		ctrl.LoggerFrom(ctx).Info("A SCIM write timed out but landed; answering its result", "object", klog.KObj(fresh))
	}
	return fresh, found
}

// assign copies src into dst, objects of one kind.
func assign(dst, src client.Object) {
	switch d := dst.(type) {
	case *v1alpha1.ScimUser:
		*d = *src.(*v1alpha1.ScimUser)
	case *v1alpha1.ScimGroup:
		*d = *src.(*v1alpha1.ScimGroup)
	}
}

// DeleteUser deletes u, preconditioned on its uid (and resourceVersion when pre has IfMatch).
// Membership lives on the user, so deleting it removes it from every group.
func (s *Store) DeleteUser(ctx context.Context, u *v1alpha1.ScimUser, pre Preconditions) error {
	return s.delete(ctx, u, pre)
}

// DeleteGroup deletes g like DeleteUser. The group controller's finalizer removes the group from
// its members' memberOf; from now on the store treats the group as gone.
func (s *Store) DeleteGroup(ctx context.Context, g *v1alpha1.ScimGroup, pre Preconditions) error {
	return s.delete(ctx, g, pre)
}

func (s *Store) delete(ctx context.Context, obj client.Object, pre Preconditions) error {
	if err := pre.check(obj.GetResourceVersion()); err != nil {
		fresh, ferr := liveCopy(ctx, s, obj)
		if ferr != nil {
			return ferr
		}
		if err := pre.check(fresh.GetResourceVersion()); err != nil {
			return err
		}
		obj = fresh
	}
	uid := obj.GetUID()
	precond := client.Preconditions{UID: &uid}
	if pre.IfMatch != nil {
		rv := obj.GetResourceVersion()
		precond.ResourceVersion = &rv
	}
	dctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := s.writer.Delete(dctx, obj, precond); err != nil {
		if apierrors.IsConflict(err) && pre.IfMatch != nil {
			return preconditionError()
		}
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return notFoundError(kindOf(obj), string(uid))
		}
		return err
	}
	s.awaitGone(ctx, obj)
	return nil
}

// awaitCache waits (bounded) until the cache holds obj at its new resourceVersion or later, and
// the list order holds it, so this replica reads its own writes, in list pages too. A timeout
// is not an error: the write succeeded.
func (s *Store) awaitCache(ctx context.Context, obj client.Object) {
	want, _ := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
	probe := obj.DeepCopyObject().(client.Object)
	o := s.orderOf(obj)
	s.wakes.waitUntil(ctx, cacheSyncTimeout, func() bool {
		if err := s.cache.Get(ctx, client.ObjectKeyFromObject(obj), probe); err != nil {
			return false
		}
		got, _ := strconv.ParseUint(probe.GetResourceVersion(), 10, 64)
		cached := probe.GetResourceVersion() == obj.GetResourceVersion() || (want > 0 && got >= want)
		return cached && (!o.following() || o.contains(keyOf(probe)))
	})
}

// awaitGone waits (bounded) until neither the cache nor the list order serves obj as live.
func (s *Store) awaitGone(ctx context.Context, obj client.Object) {
	probe := obj.DeepCopyObject().(client.Object)
	o := s.orderOf(obj)
	s.wakes.waitUntil(ctx, cacheSyncTimeout, func() bool {
		err := s.cache.Get(ctx, client.ObjectKeyFromObject(obj), probe)
		gone := apierrors.IsNotFound(err) || (err == nil && (!live(probe) || probe.GetUID() != obj.GetUID()))
		// A new object under the same name, created in the same second, has obj's key.
		replaced := err == nil && live(probe) && probe.GetUID() != obj.GetUID()
		return gone && (!o.following() || replaced || !o.contains(keyOf(obj)))
	})
}
