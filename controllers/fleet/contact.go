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
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// contact tracks the member's link to the hub: it reports to the hub every heartbeat, probes
// fast while the hub is unreachable, applies the unreachable policy, and resyncs the mirrors on
// reconnect.
type contact struct {
	opts     Options
	hubLive  client.Client // the hub's API server
	local    client.Client // the member (cache reads, writes)
	localAPI client.Reader // the member's API server, for the member's own ScimMember
	mirrors  []*mirror
	recorder events.EventRecorder

	mu          sync.Mutex
	connected   bool
	dirty       bool // a contact failed since the last resync: the hub cache may be stale
	fenced      bool
	lastContact time.Time
	lastErr     string
	floors      map[string]string // per kind: a cache not past this resourceVersion may be stale
	lag         time.Duration
	reported    time.Time // the last write of the member's own ScimMember
	reportedAs  string    // the state that write recorded
	// labels of this member's ScimMember on the hub, which fleet bindings select by; known
	// once the hub has answered. relabeled: they changed since the mirrors last used them.
	labels      labels.Set
	labelsKnown bool
	relabeled   bool
}

func newContact(opts Options, hubLive client.Client, local client.Client, localAPI client.Reader, recorder events.EventRecorder) *contact {
	return &contact{opts: opts, hubLive: hubLive, local: local, localAPI: localAPI, recorder: recorder,
		floors: map[string]string{}, lastContact: time.Now()}
}

// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimmembers,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimmembers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimgroupbindings,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// NeedLeaderElection is false: every replica keeps its own contact and applies the policy.
func (c *contact) NeedLeaderElection() bool { return false }

// Start runs the contact loop until ctx ends.
func (c *contact) Start(ctx context.Context) error {
	c.restore(ctx)
	for {
		wait := c.opts.Heartbeat
		if !c.beat(ctx) {
			wait = probeInterval
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// restore takes the last contact from the member's own ScimMember, so that a restart while the
// hub is away neither resets the grace period nor forgets a fence.
func (c *contact) restore(ctx context.Context) {
	var sm scimv1.ScimMember
	if err := c.localAPI.Get(ctx, client.ObjectKey{Name: c.opts.ClusterName}, &sm); err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if sm.Status.LastContact != nil && sm.Status.LastContact.Time.Before(c.lastContact) {
		c.lastContact = sm.Status.LastContact.Time
	}
	c.fenced = meta.IsStatusConditionTrue(sm.Status.Conditions, scimv1.FencedCondition)
	c.dirty = c.fenced
}

// beat reports to the hub once and acts on the outcome; it reports whether the hub answered.
func (c *contact) beat(ctx context.Context) bool {
	log := ctrl.LoggerFrom(ctx).WithName("fleet")
	err := c.reportToHub(ctx)
	if err == nil && c.needsResync() {
		err = c.resync(ctx)
	} else if err == nil && c.takeRelabeled() {
		if rerr := c.reselect(ctx); rerr != nil { // the hub answered: no contact failure
			log.Error(rerr, "Applying the fleet bindings that select this member's new labels")
		}
	}
	now := time.Now()
	c.mu.Lock()
	wasConnected, wasFenced := c.connected, c.fenced
	c.connected = err == nil
	if err == nil {
		c.lastContact, c.lastErr, c.dirty = now, "", false
	} else {
		c.lastErr, c.dirty = err.Error(), true
	}
	fence := err != nil && !c.fenced && c.opts.Unreachable == scimv1.UnreachableRevoke && now.Sub(c.lastContact) > c.opts.GracePeriod
	if fence {
		c.fenced = true
	}
	since := now.Sub(c.lastContact)
	c.mu.Unlock()
	setContactMetrics(since, err == nil, fence || (wasFenced && err != nil))

	switch {
	case err != nil && wasConnected:
		log.Error(err, "Lost the hub", "policy", c.opts.Unreachable, "gracePeriod", c.opts.GracePeriod)
	case err == nil && !wasConnected:
		log.Info("Reached the hub", "unfenced", wasFenced)
	}
	if fence {
		log.Info("The hub has been unreachable for longer than the grace period: removing every grant", "since", since.Round(time.Second))
		for _, m := range c.mirrors {
			if derr := m.removeAll(ctx); derr != nil {
				log.Error(derr, "Removing the copies of hub identities", "kind", m.kind.name)
				c.mu.Lock()
				c.fenced = false // try again at the next probe
				c.mu.Unlock()
			}
		}
	}
	c.reportLocally(ctx, wasConnected, wasFenced)
	return err == nil
}

func (c *contact) needsResync() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dirty
}

// resync runs after the hub answers again: it sets each kind's floor to the hub's current
// resourceVersion (so that a lagging cache is checked against the hub before it recreates or
// deletes anything), lifts a fence, and mirrors a live list of the hub, so that whatever
// changed while the hub was away applies now rather than when the hub watch resumes.
func (c *contact) resync(ctx context.Context) error {
	for _, m := range c.mirrors {
		list := m.kind.newList()
		if err := c.hubLive.List(ctx, list, client.Limit(1)); err != nil {
			return fmt.Errorf("reading the hub's resourceVersion: %w", err)
		}
		c.setFloor(m.kind.name, list.GetResourceVersion())
	}
	c.mu.Lock()
	c.fenced = false
	c.mu.Unlock()
	var errs []error
	for _, m := range c.mirrors {
		if _, err := m.resync(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// noteLabels records the labels of this member's ScimMember on the hub.
func (c *contact) noteLabels(l map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.labelsKnown && !labels.Equals(c.labels, l) {
		c.relabeled = true
	}
	c.labels, c.labelsKnown = labels.Set(l), true
}

// memberLabels are the labels of this member's ScimMember on the hub, once known.
func (c *contact) memberLabels() (labels.Set, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.labels, c.labelsKnown
}

func (c *contact) takeRelabeled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.relabeled
	c.relabeled = false
	return r
}

// reselect mirrors again, from a live list, the kinds the member's labels select: a hub admin
// relabelled this member, so other fleet bindings may now apply here (or stop applying).
func (c *contact) reselect(ctx context.Context) error {
	var errs []error
	for _, m := range c.mirrors {
		if m.kind.selects != nil {
			if _, err := m.resync(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		c.mu.Lock()
		c.relabeled = true // try again at the next heartbeat
		c.mu.Unlock()
		return err
	}
	return nil
}

func (c *contact) setFloor(kind, rv string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.floors[kind] = rv
}

func (c *contact) floor(kind string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.floors[kind]
}

func (c *contact) isFenced() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fenced
}

// noteLag records the lag of a copy just written from hubObj.
func (c *contact) noteLag(hubObj client.Object) {
	lag := lagOf(hubObj, time.Now())
	if lag == 0 {
		return
	}
	mirrorLagSeconds.Observe(lag.Seconds())
	c.mu.Lock()
	c.lag = lag
	c.mu.Unlock()
}

// reportToHub writes the member's status into its ScimMember on the hub: the heartbeat. A
// member whose ScimMember is gone has been removed from the fleet, which counts as no contact.
func (c *contact) reportToHub(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var sm scimv1.ScimMember
	if err := c.hubLive.Get(ctx, client.ObjectKey{Name: c.opts.ClusterName}, &sm); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("this member (%s) is not registered on the hub: run kubescim join", c.opts.ClusterName)
		}
		return err
	}
	c.noteLabels(sm.Labels)
	st, err := c.status(ctx)
	if err != nil {
		return err
	}
	now := metav1.Now()
	st.LastContact = &now
	st.Conditions = sm.Status.Conditions
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: scimv1.HubConnectedCondition, Status: metav1.ConditionTrue,
		Reason: "Heartbeat", Message: "the member reports every " + c.opts.Heartbeat.String(), ObservedGeneration: sm.Generation})
	meta.RemoveStatusCondition(&st.Conditions, scimv1.FencedCondition)
	sm.Status = st
	return c.hubLive.Status().Update(ctx, &sm)
}

// status counts what the member holds.
func (c *contact) status(ctx context.Context) (scimv1.ScimMemberStatus, error) {
	st := scimv1.ScimMemberStatus{UnreachablePolicy: c.opts.Unreachable, GracePeriod: &metav1.Duration{Duration: c.opts.GracePeriod},
		Heartbeat: &metav1.Duration{Duration: c.opts.Heartbeat}}
	mirrored := client.MatchingLabels{scimv1.MirroredLabel: c.opts.ClusterName}
	var users scimv1.ScimUserList
	if err := c.local.List(ctx, &users, mirrored, client.UnsafeDisableDeepCopy); err != nil {
		return st, fmt.Errorf("counting mirrored users: %w", err)
	}
	var groups scimv1.ScimGroupList
	if err := c.local.List(ctx, &groups, mirrored, client.UnsafeDisableDeepCopy); err != nil {
		return st, fmt.Errorf("counting mirrored groups: %w", err)
	}
	var bindings scimv1.ScimGroupBindingList
	if err := c.local.List(ctx, &bindings, client.UnsafeDisableDeepCopy); err != nil {
		return st, fmt.Errorf("counting bindings: %w", err)
	}
	st.Users, st.Groups, st.Bindings = int32(len(users.Items)), int32(len(groups.Items)), int32(len(bindings.Items))
	for _, b := range bindings.Items {
		st.Subjects += b.Status.Subjects
	}
	c.mu.Lock()
	st.MirrorLagMilliseconds = c.lag.Milliseconds()
	c.mu.Unlock()
	return st, nil
}

// reportLocally keeps the member's own ScimMember: written when the state changes, else once a
// heartbeat interval, with an Event at each transition.
func (c *contact) reportLocally(ctx context.Context, wasConnected, wasFenced bool) {
	log := ctrl.LoggerFrom(ctx).WithName("fleet")
	c.mu.Lock()
	connected, fenced, lastContact, lastErr := c.connected, c.fenced, c.lastContact, c.lastErr
	state := fmt.Sprint(connected, fenced)
	due := state != c.reportedAs || time.Since(c.reported) >= c.opts.Heartbeat
	c.mu.Unlock()
	if !due {
		return
	}
	sm := &scimv1.ScimMember{}
	if err := c.localAPI.Get(ctx, client.ObjectKey{Name: c.opts.ClusterName}, sm); apierrors.IsNotFound(err) {
		sm = &scimv1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: c.opts.ClusterName}}
		if err := c.local.Create(ctx, sm); err != nil {
			log.Error(err, "Creating this member's own ScimMember")
			return
		}
	} else if err != nil {
		log.Error(err, "Reading this member's own ScimMember")
		return
	}
	st, err := c.status(ctx)
	if err != nil {
		log.Error(err, "Counting what this member holds")
	}
	st.Conditions = sm.Status.Conditions
	st.LastContact = &metav1.Time{Time: lastContact}
	connectedCond := metav1.Condition{Type: scimv1.HubConnectedCondition, Status: metav1.ConditionTrue, Reason: "Heartbeat",
		Message: "the hub answers", ObservedGeneration: sm.Generation}
	if !connected {
		connectedCond.Status, connectedCond.Reason, connectedCond.Message = metav1.ConditionFalse, "Unreachable", truncate(lastErr, 1000)
	}
	meta.SetStatusCondition(&st.Conditions, connectedCond)
	fencedCond := metav1.Condition{Type: scimv1.FencedCondition, Status: metav1.ConditionFalse, Reason: "HubReachable",
		Message: "grants follow the hub", ObservedGeneration: sm.Generation}
	switch {
	case fenced:
		fencedCond.Status, fencedCond.Reason = metav1.ConditionTrue, "HubUnreachable"
		fencedCond.Message = fmt.Sprintf("the hub has been unreachable for longer than %s: every grant from its identities is removed until it answers", c.opts.GracePeriod)
	case !connected && c.opts.Unreachable == scimv1.UnreachableKeep:
		fencedCond.Reason, fencedCond.Message = "KeepPolicy", "the hub is unreachable and the policy keeps the last known access"
	case !connected:
		fencedCond.Reason = "GracePeriod"
		fencedCond.Message = fmt.Sprintf("the hub is unreachable; every grant is removed at %s unless it answers", lastContact.Add(c.opts.GracePeriod).UTC().Format(time.RFC3339))
	}
	meta.SetStatusCondition(&st.Conditions, fencedCond)
	sm.Status = st
	if err := c.local.Status().Update(ctx, sm); err != nil {
		log.Error(err, "Writing this member's own ScimMember")
		return
	}
	c.mu.Lock()
	c.reported, c.reportedAs = time.Now(), state
	c.mu.Unlock()

	switch {
	case !connected && wasConnected:
		c.recorder.Eventf(sm, nil, corev1.EventTypeWarning, "HubUnreachable", "Contact", "%s", truncate(lastErr, 1000))
	case connected && !wasConnected:
		c.recorder.Eventf(sm, nil, corev1.EventTypeNormal, "HubReachable", "Contact", "the hub answers")
	}
	switch {
	case fenced && !wasFenced:
		c.recorder.Eventf(sm, nil, corev1.EventTypeWarning, "Fenced", "Revoke", "the hub has been unreachable for longer than %s: every grant is removed", c.opts.GracePeriod)
	case !fenced && wasFenced:
		c.recorder.Eventf(sm, nil, corev1.EventTypeNormal, "Unfenced", "Resync", "grants restored from the hub's current state")
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
