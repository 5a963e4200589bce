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
	"testing"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

func TestGroupSelector(t *testing.T) {
	pattern := func(p, tmpl string) *scimv1.ScimGroupBinding {
		return &scimv1.ScimGroupBinding{Spec: scimv1.ScimGroupBindingSpec{GroupPattern: p, NamespaceTemplate: tmpl}}
	}
	for _, tc := range []struct{ pattern, template, err string }{
		{`team-(`, "", "invalid groupPattern"},
		{`team-(?P<team>[a-z]+)`, "{squad}", "{squad} is not a named capture"},
		{`team-(?P<team>[a-z]+)`, "{team", "unclosed {"},
		{`team-(?P<team>[a-z]+)`, "{}", "{} is not a named capture"},
	} {
		if _, err := selectorOf(pattern(tc.pattern, tc.template)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("pattern %q template %q: got %v, want an error with %q", tc.pattern, tc.template, err, tc.err)
		}
	}

	sel, err := selectorOf(pattern(`team-(?P<team>[a-zA-Z0-9.-]+)-(?P<env>dev|prod)`, "{team}-{env}"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		displayName string
		matches     bool
		namespace   string // "" when skipped
	}{
		{"team-payments-prod", true, "payments-prod"},
		{"team-web-dev", true, "web-dev"},
		{"xteam-web-dev", false, ""},                           // anchored at the start
		{"team-web-devops", false, ""},                         // and at the end
		{"team-Web-dev", true, ""},                             // matches, but "Web-dev" is no namespace name
		{"team-a.b-dev", true, ""},                             // nor is "a.b-dev"
		{"team-" + strings.Repeat("x", 70) + "-dev", true, ""}, // too long
	} {
		if got := sel.matches(tc.displayName); got != tc.matches {
			t.Errorf("%q: matches %v, want %v", tc.displayName, got, tc.matches)
		}
		if !tc.matches {
			continue
		}
		ns, skipped := sel.namespaceFor(tc.displayName)
		if ns != tc.namespace || (tc.namespace == "") != (skipped != "") {
			t.Errorf("%q: namespace %q (skipped %q), want %q", tc.displayName, ns, skipped, tc.namespace)
		}
	}

	byName, _ := selectorOf(&scimv1.ScimGroupBinding{Spec: scimv1.ScimGroupBindingSpec{Group: "Platform Admins"}})
	if !byName.matches("platform admins") || byName.matches("platform admins 2") {
		t.Error("a group name must match its displayName whole and case-insensitively")
	}
}

// patternGroup creates a ScimGroup with the given displayName.
func patternGroup(t *testing.T, name, displayName string) *scimv1.ScimGroup {
	t.Helper()
	g := &scimv1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: scimv1.ScimGroupSpec{DisplayName: displayName}}
	mustCreate(t, g)
	return g
}

// matchedGroups reads a binding's status.matchedGroups as "group=namespace" or
// "group!skipped" entries.
func matchedGroups(b *scimv1.ScimGroupBinding) ([]string, error) {
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(b), b); err != nil {
		return nil, err
	}
	var out []string
	for _, m := range b.Status.MatchedGroups {
		if m.Skipped != "" {
			out = append(out, m.Group+"!skipped")
		} else {
			out = append(out, m.Group+"="+m.Namespace)
		}
	}
	if int(b.Status.MatchedGroupCount) != len(b.Status.MatchedGroups) {
		return out, fmt.Errorf("matchedGroupCount %d, %d listed", b.Status.MatchedGroupCount, len(out))
	}
	return out, nil
}

func expectMatched(b *scimv1.ScimGroupBinding, want ...string) func() error {
	return func() error {
		got, err := matchedGroups(b)
		if err != nil {
			return err
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("matchedGroups: got %v, want %v", got, want)
		}
		return nil
	}
}

// One pattern binding gives every team's group edit in the team's own namespace: groups pushed
// later are bound as they appear, a group renamed away loses its grant, a name that makes no
// valid namespace is skipped and said so, and an invalid pattern takes everything away.
func TestGroupPatternBindsEachTeamInItsNamespace(t *testing.T) {
	const partition = "" // the main manager
	ctx := ctxFor(t)
	payNS := newNamespace(t, "pt-pay-dev", nil).Name
	webNS := newNamespace(t, "pt-web-prod", nil).Name

	b := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "pt-teams"},
		Spec: scimv1.ScimGroupBindingSpec{
			GroupPattern:      `pt-(?P<team>[a-z0-9.]+)-(?P<env>dev|prod)`,
			NamespaceTemplate: "pt-{team}-{env}",
			RoleRef:           scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole},
		},
	}
	mustCreate(t, b)
	eventually(t, "no group matches yet", expectCondition(b, scimv1.ReadyCondition, metav1.ConditionFalse, scimv1.GroupNotFoundReason))

	pay := patternGroup(t, "pt-g-pay", "pt-pay-dev")
	payUser := newUser(t, partition, "pt-payer@example.com", pay.Name)
	paySubject := "oidc:" + payUser.Spec.UserName
	eventually(t, "the first team's group bound in its namespace", expectSubjects(b.Name, payNS, paySubject))
	eventually(t, "the first team's member may read there", expectAllowed(paySubject, "get", "configmaps", payNS, true))
	eventually(t, "Ready once a group matches", expectCondition(b, scimv1.ReadyCondition, metav1.ConditionTrue, scimv1.ReconciledReason))
	eventually(t, "the member's status names the namespace and the group", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(payUser), payUser); err != nil {
			return err
		}
		want := scimv1.AccessGrant{Scope: scimv1.ScopeNamespaced, Namespaces: []string{payNS}, Role: "ClusterRole/" + readerRole,
			Binding: b.Name, Group: "pt-pay-dev"}
		if len(payUser.Status.Access) != 1 || !equality.Semantic.DeepEqual(payUser.Status.Access[0], want) {
			return fmt.Errorf("status.access %+v, want [%+v]", payUser.Status.Access, want)
		}
		return nil
	})
	if a, err := AccessOf(ctx, k8s, payUser.Spec.UserName, mainOptions); err != nil || len(a.Grants) != 1 ||
		a.Grants[0].Namespace != payNS || a.Grants[0].Group != "pt-pay-dev" {
		t.Errorf("kubectl scim access: got %+v, %v; want one grant in %s through pt-pay-dev", a.Grants, err, payNS)
	}

	web := patternGroup(t, "pt-g-web", "pt-web-prod")
	webUser := newUser(t, partition, "pt-webber@example.com", web.Name)
	webSubject := "oidc:" + webUser.Spec.UserName
	eventually(t, "a group pushed later is bound in its own namespace", expectSubjects(b.Name, webNS, webSubject))
	eventually(t, "the first team still holds only its own namespace", expectSubjects(b.Name, payNS, paySubject))
	eventually(t, "no team reads in another's namespace", expectAllowed(paySubject, "get", "configmaps", webNS, false))
	plan, err := Preview(ctx, k8s, b, mainOptions)
	if err != nil || plan.Changed() || strings.Join(plan.Namespaces, ",") != payNS+","+webNS {
		t.Errorf("preview of the applied binding: got %+v, %v; want no change over %s and %s", plan, err, payNS, webNS)
	}

	patternGroup(t, "pt-g-dotted", "pt-a.b-dev")
	newUser(t, partition, "pt-dotted@example.com", "pt-g-dotted")
	patternGroup(t, "pt-g-new", "pt-new-dev")
	eventually(t, "invalid and missing namespaces are skipped and listed first",
		expectMatched(b, "pt-a.b-dev!skipped", "pt-new-dev!skipped", "pt-pay-dev=pt-pay-dev", "pt-web-prod=pt-web-prod"))
	eventually(t, "Ready says groups are skipped", func() error {
		if err := expectCondition(b, scimv1.ReadyCondition, metav1.ConditionTrue, "")(); err != nil {
			return err
		}
		if msg := readyMessage(b); !strings.Contains(msg, "2 of 4 matched groups skipped") {
			return fmt.Errorf("Ready message %q does not count the skipped groups", msg)
		}
		return nil
	})
	if rbs, err := managedRoleBindings(b.Name); err != nil || len(rbs) != 2 {
		t.Fatalf("want RoleBindings in the two valid namespaces only, got %d (%v)", len(rbs), err)
	}
	eventually(t, "a Warning Event names the skipped group", expectEvent(ctx, b, "GroupSkipped", "pt-a.b-dev"))

	plan, err = Preview(ctx, k8s, b, mainOptions)
	if err != nil || len(plan.Skipped) != 2 || plan.Skipped[0].Group != "pt-a.b-dev" {
		t.Errorf("preview: got skipped %+v, %v; want pt-a.b-dev and pt-new-dev", plan.Skipped, err)
	}
	newNamespace(t, "pt-new-dev", nil)
	eventually(t, "a namespace created later is bound", expectMatched(b, "pt-a.b-dev!skipped", "pt-new-dev=pt-new-dev", "pt-pay-dev=pt-pay-dev", "pt-web-prod=pt-web-prod"))

	update(t, pay, func(g *scimv1.ScimGroup) { g.Spec.DisplayName = "legacy-payments" })
	eventually(t, "a group renamed away loses its grant", expectSubjects(b.Name, payNS))
	eventually(t, "and its member loses access", expectAllowed(paySubject, "get", "configmaps", payNS, false))
	eventually(t, "the others keep theirs", expectSubjects(b.Name, webNS, webSubject))

	update(t, b, func(b *scimv1.ScimGroupBinding) { b.Spec.GroupPattern = `pt-(?P<team>[a-z0-9.]+)-(?P<env>dev|prod` })
	eventually(t, "an invalid pattern is refused", expectCondition(b, scimv1.ReadyCondition, metav1.ConditionFalse, scimv1.InvalidGroupPatternReason))
	eventually(t, "and grants nothing anywhere", func() error {
		rbs, err := managedRoleBindings(b.Name)
		if err == nil && len(rbs) > 0 {
			err = fmt.Errorf("%d RoleBindings left", len(rbs))
		}
		return err
	})
	eventually(t, "its members lose access", expectAllowed(webSubject, "get", "configmaps", webNS, false))
	eventually(t, "and nothing is listed as matched", expectMatched(b))
}

// A pattern binding is refused, grants removed, when its role is not bindable, like any other.
func TestGroupPatternObeysTheBindableRoles(t *testing.T) {
	const partition = ""
	ns := newNamespace(t, "ptr-ops-dev", nil).Name
	g := patternGroup(t, "ptr-g-ops", "ptr-ops-dev")
	u := newUser(t, partition, "ptr-op@example.com", g.Name)
	b := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "ptr-teams"},
		Spec: scimv1.ScimGroupBindingSpec{GroupPattern: `ptr-(?P<team>[a-z]+)-dev`, NamespaceTemplate: "ptr-{team}-dev",
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole}},
	}
	mustCreate(t, b)
	eventually(t, "bound", expectSubjects(b.Name, ns, "oidc:"+u.Spec.UserName))
	update(t, b, func(b *scimv1.ScimGroupBinding) { b.Spec.RoleRef.Name = "cluster-admin" })
	eventually(t, "an unbindable role is refused", expectCondition(b, scimv1.RoleBindableCondition, metav1.ConditionFalse, scimv1.RoleNotAllowedReason))
	eventually(t, "and its grants are gone", expectSubjects(b.Name, ns))
}

// readyMessage is the message of b's Ready condition, as last read.
func readyMessage(b *scimv1.ScimGroupBinding) string {
	if c := meta.FindStatusCondition(b.Status.Conditions, scimv1.ReadyCondition); c != nil {
		return c.Message
	}
	return ""
}

// expectEvent checks that an Event of reason about obj (cluster-scoped: in "default") has a
// note containing text.
func expectEvent(ctx context.Context, obj client.Object, reason, text string) func() error {
	return func() error {
		var list eventsv1.EventList
		if err := k8s.List(ctx, &list, client.InNamespace("default")); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == obj.GetName() && e.Reason == reason && strings.Contains(e.Note, text) {
				return nil
			}
		}
		return fmt.Errorf("no %s Event about %s mentioning %q among %d", reason, obj.GetName(), text, len(list.Items))
	}
}
