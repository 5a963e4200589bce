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

package scimserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// live reports whether an object exists for SCIM: objects being deleted are already gone.
func live(obj client.Object) bool { return obj.GetDeletionTimestamp() == nil }

// listUsers lists ScimUsers from the cache, optionally by one index value, without deleted ones.
// The objects are the cache's own (no deep copy, which would cost a copy of every user on each
// unfiltered page): never modify them; update and setMembership copy before they write.
func (s *Server) listUsers(ctx context.Context, index, value string) ([]*v1alpha1.ScimUser, error) {
	var list v1alpha1.ScimUserList
	opts := []client.ListOption{client.UnsafeDisableDeepCopy}
	if index != "" {
		opts = append(opts, client.MatchingFields{index: value})
	}
	if err := s.cache.List(ctx, &list, opts...); err != nil {
		return nil, fmt.Errorf("listing ScimUsers: %w", err)
	}
	out := make([]*v1alpha1.ScimUser, 0, len(list.Items))
	for i := range list.Items {
		if live(&list.Items[i]) {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

// listGroups lists ScimGroups from the cache like listUsers: shared objects, never modified.
func (s *Server) listGroups(ctx context.Context, index, value string) ([]*v1alpha1.ScimGroup, error) {
	var list v1alpha1.ScimGroupList
	opts := []client.ListOption{client.UnsafeDisableDeepCopy}
	if index != "" {
		opts = append(opts, client.MatchingFields{index: value})
	}
	if err := s.cache.List(ctx, &list, opts...); err != nil {
		return nil, fmt.Errorf("listing ScimGroups: %w", err)
	}
	out := make([]*v1alpha1.ScimGroup, 0, len(list.Items))
	for i := range list.Items {
		if live(&list.Items[i]) {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

// userByID finds a user by SCIM id, reading through to the API server on a cache miss.
func (s *Server) userByID(ctx context.Context, id string) (*v1alpha1.ScimUser, error) {
	users, err := s.lookupUsers(ctx, v1alpha1.IndexUID, id)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, notFound("User", id)
	}
	return oldest(ctx, id, users), nil
}

// groupByID finds a group by SCIM id, reading through to the API server on a cache miss.
func (s *Server) groupByID(ctx context.Context, id string) (*v1alpha1.ScimGroup, error) {
	groups, err := s.lookupGroups(ctx, v1alpha1.IndexUID, id)
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, notFound("Group", id)
	}
	return oldest(ctx, id, groups), nil
}

// oldest picks the object that answers for SCIM id id among objs, live objects that all carry
// it. More than one means someone copied an object with its id label (kubectl get -o yaml, then
// create under another name). The oldest (by creation, then name, the same on every replica) is
// the original the IdP knows; the copies are still listed, under the same id, but a lookup or a
// write by id never reaches them, and never merges them into one resource.
func oldest[T client.Object](ctx context.Context, id string, objs []T) T {
	if len(objs) > 1 {
		ctrl.LoggerFrom(ctx).Info("More than one object carries one SCIM id label; answering the oldest", "id", id, "objects", len(objs))
	}
	return slices.MinFunc(objs, func(a, b T) int {
		if c := a.GetCreationTimestamp().Compare(b.GetCreationTimestamp().Time); c != 0 {
			return c
		}
		return strings.Compare(a.GetName(), b.GetName())
	})
}

// stamp records who changed obj and when (read by the controllers' audit log and latency metric),
// and sets the labels the read-through selects on.
func stamp(ctx context.Context, obj client.Object) {
	setLookupLabels(obj)
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[v1alpha1.ChangedAtAnnotation] = time.Now().UTC().Format(time.RFC3339Nano)
	ann[v1alpha1.ChangedByAnnotation] = tokenNameFrom(ctx)
	obj.SetAnnotations(ann)
}

// create creates obj through the API server and waits until the cache has it. A new object
// was created when it was last modified (meta.created equals meta.lastModified). Its SCIM id is
// a new UUID in the id label of the create request itself: one write per create, and every
// replica can read the new object through by id at once.
func (s *Server) create(ctx context.Context, obj client.Object) error {
	stamp(ctx, obj)
	obj.GetLabels()[idLabel] = uuid.NewString()
	ann := obj.GetAnnotations()
	ann[createdAtAnnotation] = ann[v1alpha1.ChangedAtAnnotation]
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

// update applies mutate to obj and updates it with optimistic concurrency. On a conflict it
// re-reads the object from the API server and re-applies mutate, with client-go's conflict
// backoff (conflictBackoff), unless the client sent If-Match, in which case the conflict is a
// 412 and never retried. mutate receives a fresh copy each round and may return a SCIM error to
// abort.
func update[T client.Object](ctx context.Context, s *Server, obj T, pre preconditions, mutate func(T) error) (T, error) {
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
		if err := pre.checkWrite(current.GetResourceVersion()); err != nil {
			if attempts > 1 {
				return err
			}
			// The cache may lag behind a write made through another replica: decide on the
			// live version.
			fresh, ferr := liveCopy(ctx, s, obj)
			if ferr != nil {
				return ferr
			}
			if err := pre.checkWrite(fresh.GetResourceVersion()); err != nil {
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
		case apierrors.IsConflict(err) && pre.ifMatch != "":
			return preconditionFailed()
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
// another write followed it): the answer is then err, a 503 the IdP retries.
func (s *Server) landed(ctx context.Context, obj client.Object, err error) (client.Object, bool) {
	if err == nil || !outcomeUnknown(err) || obj.GetName() == "" {
		return nil, false
	}
	want := obj.GetAnnotations()
	fresh := obj.DeepCopyObject().(client.Object)
	found := false
	ctx = context.WithoutCancel(ctx)
	_ = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, readBackTimeout, true, func(ctx context.Context) (bool, error) {
		if err := s.apiReader.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
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

// liveCopy reads obj from the API server (not the cache); an object deleted or replaced since
// is a 404.
func liveCopy[T client.Object](ctx context.Context, s *Server, obj T) (T, error) {
	var zero T
	fresh := obj.DeepCopyObject().(T)
	gctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := s.apiReader.Get(gctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
		if apierrors.IsNotFound(err) {
			return zero, notFound(kindOf(obj), v1alpha1.ScimID(obj))
		}
		return zero, err
	}
	if !live(fresh) || fresh.GetUID() != obj.GetUID() {
		return zero, notFound(kindOf(obj), v1alpha1.ScimID(obj))
	}
	return fresh, nil
}

// remove deletes obj, preconditioned on its uid (and resourceVersion when If-Match was sent).
func (s *Server) remove(ctx context.Context, obj client.Object, pre preconditions) error {
	if err := pre.checkWrite(obj.GetResourceVersion()); err != nil {
		fresh, ferr := liveCopy(ctx, s, obj)
		if ferr != nil {
			return ferr
		}
		if err := pre.checkWrite(fresh.GetResourceVersion()); err != nil {
			return err
		}
		obj = fresh
	}
	uid := obj.GetUID()
	precond := client.Preconditions{UID: &uid}
	if pre.ifMatch != "" {
		rv := obj.GetResourceVersion()
		precond.ResourceVersion = &rv
	}
	dctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := s.writer.Delete(dctx, obj, precond); err != nil {
		if apierrors.IsConflict(err) && pre.ifMatch != "" {
			return preconditionFailed()
		}
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return notFound(kindOf(obj), string(uid))
		}
		return err
	}
	s.awaitGone(ctx, obj)
	return nil
}

func kindOf(obj client.Object) string {
	if _, ok := obj.(*v1alpha1.ScimGroup); ok {
		return "Group"
	}
	return "User"
}

// awaitCache waits (bounded) until the cache holds obj at its new resourceVersion or later, so
// this replica reads its own writes. A timeout is not an error: the write succeeded.
func (s *Server) awaitCache(ctx context.Context, obj client.Object) {
	want, _ := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
	probe := obj.DeepCopyObject().(client.Object)
	s.wakes.waitUntil(ctx, cacheSyncTimeout, func() bool {
		if err := s.cache.Get(ctx, client.ObjectKeyFromObject(obj), probe); err != nil {
			return false
		}
		got, _ := strconv.ParseUint(probe.GetResourceVersion(), 10, 64)
		return probe.GetResourceVersion() == obj.GetResourceVersion() || (want > 0 && got >= want)
	})
}

// awaitGone waits (bounded) until the cache no longer serves obj as live.
func (s *Server) awaitGone(ctx context.Context, obj client.Object) {
	probe := obj.DeepCopyObject().(client.Object)
	s.wakes.waitUntil(ctx, cacheSyncTimeout, func() bool {
		err := s.cache.Get(ctx, client.ObjectKeyFromObject(obj), probe)
		return apierrors.IsNotFound(err) || (err == nil && (!live(probe) || probe.GetUID() != obj.GetUID()))
	})
}
