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
package fleet

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// fieldOwner names kubescim's member mirror in managedFields.
var fieldOwner = client.FieldOwner("kubescim-member")

// mirror keeps the member's copies of one kind in step with the hub.
type mirror struct {
	kind    kind
	cluster string
	hub     client.Reader // the hub cache
	hubLive client.Reader // the hub's API server
	local   client.Client // the member: its cache for reads, and writes
	contact *contact
}

// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimusers;scimgroups,verbs=get;list;watch;create;update;patch;delete;deletecollection

// Reconcile brings the member's copy of one hub object in line with it.
func (m *mirror) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if m.contact.isFenced() {
		return ctrl.Result{}, nil // the copies are gone; the resync after reconnecting restores them
	}
	key := req.NamespacedName
	local, err := m.get(ctx, m.local, key)
	if err != nil {
		return ctrl.Result{}, err
	}
	hubObj, err := m.get(ctx, m.hub, key)
	if err != nil {
		return ctrl.Result{}, err
	}
	if hubObj == nil || (local == nil && notAfter(hubObj.GetResourceVersion(), m.contact.floor(m.kind.name))) {
		// The cache may lag behind the hub (after a reconnect, or before its first sync): never
		// delete nor recreate a copy on its word alone.
		if hubObj, err = m.get(ctx, m.hubLive, key); err != nil {
			return ctrl.Result{}, err
		}
	}
	if m.kind.selects != nil {
		member, known := m.contact.memberLabels()
		if !known {
			// Until the hub has answered once, this member cannot tell what selects it: change
			// nothing (a restart must not drop the copies it made before).
			return ctrl.Result{RequeueAfter: probeInterval}, nil
		}
		if hubObj != nil && !m.kind.selects(hubObj, member) {
			hubObj = nil // not for this member (any more): its copy goes
		}
	}
	return ctrl.Result{}, m.sync(ctx, key, hubObj, local)
}

// sync makes the member's copy (local, nil when absent) match hubObj (nil when the hub has no
// such object).
func (m *mirror) sync(ctx context.Context, key types.NamespacedName, hubObj, local client.Object) error {
	switch {
	case hubObj == nil || !hubObj.GetDeletionTimestamp().IsZero():
		if local == nil || !m.isCopy(local) {
			return nil
		}
		ctrl.LoggerFrom(ctx).V(1).Info("Deleting the copy of a hub identity that is gone", m.kind.name, key.Name)
		uid := local.GetUID()
		return client.IgnoreNotFound(m.local.Delete(ctx, local, client.Preconditions{UID: &uid}))
	case local == nil:
		c := m.copyOf(hubObj, nil)
		if err := m.local.Create(ctx, c, fieldOwner); err != nil {
			return fmt.Errorf("creating the copy of %s %s: %w", m.kind.name, key.Name, err)
		}
		m.contact.noteLag(hubObj)
		return nil
	case m.isCopy(local) && before(hubObj.GetResourceVersion(), local.GetAnnotations()[scimv1.HubResourceVersionAnnotation]):
		return nil // the copy is newer than what this reader says: it lags
	case !m.isCopy(local) && !m.kind.adopts:
		ctrl.LoggerFrom(ctx).Info("A local object has the name of a hub object this member mirrors: left alone, the hub's is not applied here",
			"kind", m.kind.name, "name", key.Name)
		return nil
	}
	c := m.copyOf(hubObj, local)
	if m.isCopy(local) && maps.Equal(c.GetLabels(), local.GetLabels()) && sameAnnotations(c, local) && m.kind.sameSpec(c, local) {
		// Nothing the copy holds changed (a status write on the hub changes only the
		// resourceVersion): no write, so that the member writes only for real changes.
		return nil
	}
	if err := m.local.Update(ctx, c, fieldOwner); err != nil {
		return fmt.Errorf("updating the copy of %s %s: %w", m.kind.name, key.Name, err)
	}
	if c.GetAnnotations()[scimv1.ChangedAtAnnotation] != local.GetAnnotations()[scimv1.ChangedAtAnnotation] {
		m.contact.noteLag(hubObj) // a SCIM write reached the member
	}
	return nil
}

// sameAnnotations compares the annotations of two copies but the hub resourceVersion.
func sameAnnotations(a, b client.Object) bool {
	x, y := maps.Clone(a.GetAnnotations()), maps.Clone(b.GetAnnotations())
	delete(x, scimv1.HubResourceVersionAnnotation)
	delete(y, scimv1.HubResourceVersionAnnotation)
	return maps.Equal(x, y)
}

// copyOf is the member copy of hubObj: its spec, labels and annotations, the mirror label and
// the hub resourceVersion, on local's metadata (resourceVersion, finalizers) when it exists.
func (m *mirror) copyOf(hubObj, local client.Object) client.Object {
	c := m.kind.newObj()
	c.SetName(hubObj.GetName())
	if local != nil {
		c.SetResourceVersion(local.GetResourceVersion())
		c.SetFinalizers(local.GetFinalizers())
		c.SetUID(local.GetUID())
	}
	m.kind.copySpec(c, hubObj)
	labels := maps.Clone(hubObj.GetLabels())
	if labels == nil {
		labels = map[string]string{}
	}
	labels[scimv1.MirroredLabel] = m.cluster
	c.SetLabels(labels)
	annotations := maps.Clone(hubObj.GetAnnotations())
	if annotations == nil {
		annotations = map[string]string{}
	}
	delete(annotations, corev1.LastAppliedConfigAnnotation) // kubectl's, on the hub; the member cache drops it
	annotations[scimv1.HubResourceVersionAnnotation] = hubObj.GetResourceVersion()
	c.SetAnnotations(annotations)
	return c
}

// isCopy reports whether obj is this member's copy of a hub object.
func (m *mirror) isCopy(obj client.Object) bool {
	return obj.GetLabels()[scimv1.MirroredLabel] == m.cluster
}

// get reads one object; nil when it does not exist.
func (m *mirror) get(ctx context.Context, r client.Reader, key types.NamespacedName) (client.Object, error) {
	obj := m.kind.newObj()
	if err := r.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading %s %s: %w", m.kind.name, key.Name, err)
	}
	return obj, nil
}

// resync mirrors a live list of the hub: every copy made or updated, every copy of an object
// the hub no longer has deleted. It returns the list's resourceVersion: a cache that has not
// seen past it may be stale.
func (m *mirror) resync(ctx context.Context) (string, error) {
	member, known := m.contact.memberLabels()
	if m.kind.selects != nil && !known {
		return "", nil // cannot tell what selects this member yet; the next contact resyncs
	}
	seen := map[string]bool{}
	var rv, cont string
	for {
		list := m.kind.newList()
		if err := m.hubLive.List(ctx, list, client.Limit(500), client.Continue(cont)); err != nil {
			return "", fmt.Errorf("listing %ss on the hub: %w", m.kind.name, err)
		}
		for _, h := range m.kind.items(list) {
			if m.kind.selects != nil && !m.kind.selects(h, member) {
				continue // not for this member: a copy of it is deleted below
			}
			seen[h.GetName()] = true
			key := types.NamespacedName{Name: h.GetName()}
			local, err := m.get(ctx, m.local, key)
			if err != nil {
				return "", err
			}
			if err := m.sync(ctx, key, h, local); err != nil && !apierrors.IsAlreadyExists(err) && !apierrors.IsConflict(err) {
				return "", err
			}
		}
		if rv == "" {
			rv = list.GetResourceVersion()
		}
		if cont = list.GetContinue(); cont == "" {
			break
		}
	}
	copies := m.kind.newList()
	if err := m.local.List(ctx, copies, client.MatchingLabels{scimv1.MirroredLabel: m.cluster}); err != nil {
		return "", fmt.Errorf("listing the copies of %ss: %w", m.kind.name, err)
	}
	for _, c := range m.kind.items(copies) {
		if !seen[c.GetName()] {
			if err := m.sync(ctx, types.NamespacedName{Name: c.GetName()}, nil, c); err != nil {
				return "", err
			}
		}
	}
	return rv, nil
}

// removeAll deletes every copy of this kind: with them go all the grants they gave.
func (m *mirror) removeAll(ctx context.Context) error {
	return m.local.DeleteAllOf(ctx, m.kind.newObj(), client.MatchingLabels{scimv1.MirroredLabel: m.cluster})
}

// before and notAfter compare resourceVersions a and b: kube-apiserver's are etcd revisions,
// which only grow. When either does not parse as one (another API server, an empty floor),
// both are false, so that an unknown format never blocks an update nor costs a live read.
func before(a, b string) bool {
	x, y, ok := revisions(a, b)
	return ok && x < y
}

func notAfter(a, b string) bool {
	x, y, ok := revisions(a, b)
	return ok && x <= y
}

func revisions(a, b string) (x, y uint64, ok bool) {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	return x, y, errA == nil && errB == nil
}

// lagOf is the time from the SCIM write the hub object records to now; 0 when unknown.
func lagOf(obj client.Object, now time.Time) time.Duration {
	at, err := time.Parse(time.RFC3339Nano, obj.GetAnnotations()[scimv1.ChangedAtAnnotation])
	if err != nil || now.Before(at) {
		return 0
	}
	return now.Sub(at)
}
