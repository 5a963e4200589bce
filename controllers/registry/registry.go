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

package registry

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimmembers,verbs=get;list;watch
// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimmembers/status,verbs=get;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Registry marks the hub's ScimMembers whose member has gone silent.
type Registry struct {
	client   client.Client
	recorder events.EventRecorder
	now      func() time.Time

	mu     sync.Mutex
	seen   map[string]sighting // per member: when the hub saw its current lastContact appear
	marked map[string]bool     // members this replica marked silent: an Event when they report again
}

// sighting is one lastContact value of a member and when the hub first saw it. Staleness is
// measured on the hub's clock from then, so a member whose clock is off is not marked silent
// (or kept connected) for it.
type sighting struct{ lastContact, at time.Time }

// SetupWithManager runs the registry on mgr, the cluster that holds the ScimMembers. Call it
// only outside member mode: a member's own ScimMember is kept by its contact loop.
func SetupWithManager(mgr manager.Manager) error {
	registerMetrics()
	r := &Registry{client: mgr.GetClient(), recorder: mgr.GetEventRecorder("kubescim"), now: time.Now,
		seen: map[string]sighting{}, marked: map[string]bool{}}
	return ctrl.NewControllerManagedBy(mgr).Named("scimmember-registry").For(&scimv1.ScimMember{}).
		// Names repeat when one process starts several managers (tests, kubescim dev).
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		Complete(r)
}

// Reconcile judges one member and, while it is in good standing, comes back when it would
// become silent. Every report of the member is an update of its ScimMember, which requeues it.
func (r *Registry) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var sm scimv1.ScimMember
	if err := r.client.Get(ctx, req.NamespacedName, &sm); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.Name)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	now := r.now()
	v := judge(&sm, r.seenAt(&sm, now), now)
	setSilent(sm.Name, v.silent != nil)
	if v.silent == nil {
		r.reported(&sm)
		return reconcile.Result{RequeueAfter: v.staleAt.Sub(now)}, nil
	}
	return reconcile.Result{}, r.markSilent(ctx, &sm, *v.silent)
}

// markSilent writes cond into sm's status unless it is there already, and records the
// transition. The patch carries sm's resourceVersion: a report that lands first wins.
func (r *Registry) markSilent(ctx context.Context, sm *scimv1.ScimMember, cond metav1.Condition) error {
	if cur := meta.FindStatusCondition(sm.Status.Conditions, cond.Type); cur != nil && cur.Status == cond.Status && cur.Reason == cond.Reason {
		return nil
	}
	ctrl.LoggerFrom(ctx).Info("Marking the member silent", "ScimMember", klog.KObj(sm), "reason", cond.Reason)
	base := sm.DeepCopy()
	meta.SetStatusCondition(&sm.Status.Conditions, cond)
	if err := r.client.Status().Patch(ctx, sm, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) {
			return nil // the newer version is on its way through the watch
		}
		return fmt.Errorf("marking ScimMember %s silent: %w", sm.Name, err)
	}
	r.mu.Lock()
	r.marked[sm.Name] = true
	r.mu.Unlock()
	r.recorder.Eventf(sm, nil, corev1.EventTypeWarning, cond.Reason, "Judge", "%s", cond.Message)
	return nil
}

// reported records the Event of a member this replica marked silent that reports again.
func (r *Registry) reported(sm *scimv1.ScimMember) {
	r.mu.Lock()
	was := r.marked[sm.Name]
	delete(r.marked, sm.Name)
	r.mu.Unlock()
	if was {
		r.recorder.Eventf(sm, nil, corev1.EventTypeNormal, "MemberReported", "Judge", "the member reports again (last contact %s)",
			sm.Status.LastContact.UTC().Format(time.RFC3339))
	}
}

// seenAt is when the hub saw sm's current lastContact appear. The first sight after a start
// takes the member's word for it: the end of the second lastContact names (it is written to
// the second, so the report may be up to that late), never later than now.
func (r *Registry) seenAt(sm *scimv1.ScimMember, now time.Time) time.Time {
	if sm.Status.LastContact == nil {
		return time.Time{}
	}
	lc := sm.Status.LastContact.Time
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.seen[sm.Name]
	switch {
	case ok && s.lastContact.Equal(lc):
		return s.at
	case ok:
		s = sighting{lastContact: lc, at: now}
	default:
		s = sighting{lastContact: lc, at: minTime(lc.Add(resolution), now)}
	}
	r.seen[sm.Name] = s
	return s.at
}

func (r *Registry) forget(name string) {
	r.mu.Lock()
	delete(r.seen, name)
	delete(r.marked, name)
	r.mu.Unlock()
	memberSilent.DeleteLabelValues(name)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
