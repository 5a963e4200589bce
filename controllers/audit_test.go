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
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// brokenReader fails every read, as a cache that lost its index or its informer would.
type brokenReader struct{ client.Reader }

func (brokenReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("cache broken")
}

func (brokenReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("cache broken")
}

// auditLines runs fn with an auditor over reader and returns the lines it logged.
func auditLines(t *testing.T, reader client.Reader, opts Options, fn func(a *auditor)) []string {
	t.Helper()
	var lines []string
	a := newAuditor(funcr.NewJSON(func(l string) { lines = append(lines, l) }, funcr.Options{}), reader, opts.withDefaults())
	fn(a)
	return lines
}

func TestRevocationLineNamesTheUserWhenTheLookupFails(t *testing.T) {
	b := &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: "devs-read"},
		Spec: scimv1.ScimGroupBindingSpec{Group: "devs", RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "view"}}}
	user := rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "oidc:alice@example.com"}
	sa := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: DefaultServiceAccountNamespace, Name: "alice-example-com-2bd806c97f"}
	revoke := func(a *auditor, s rbacv1.Subject) {
		a.record(b, []accessChange{{subject: s, owner: a.ownerOfSubject(context.Background(), s), namespaces: []string{"team-a"}}})
	}
	tests := []struct {
		name    string
		opts    Options
		subject rbacv1.Subject
		deleted *scimv1.ScimUser // a tombstone the auditor holds
		want    []string
		wantNot []string
	}{{
		name: "userName subject", opts: Options{SubjectPrefix: "oidc:"}, subject: user,
		want: []string{`"userName":"alice@example.com"`, `"userSource":"subject"`, `"userLookupError":"`, `cache broken`,
			`"subject":"oidc:alice@example.com"`},
	}, {
		// An email is not a userName: the subject names the user, and the userName is unknown.
		name: "email subject", opts: Options{SubjectPrefix: "oidc:", SubjectAttribute: SubjectEmail}, subject: user,
		want:    []string{`"userName":""`, `"userSource":"subject"`, `"userLookupError":"`, `"subject":"oidc:alice@example.com"`},
		wantNot: []string{`"userName":"alice@example.com"`},
	}, {
		name: "ServiceAccount subject", opts: Options{ServiceAccounts: true}, subject: sa,
		want: []string{`"userSource":"subject"`, `"userLookupError":"`, `"subject":"kubescim-users/alice-example-com-2bd806c97f"`},
	}, {
		name: "tombstone of a deleted user", opts: Options{SubjectPrefix: "oidc:"}, subject: user,
		deleted: &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: "alice-example-com-2bd806c97f", UID: types.UID("uid-1")},
			Spec: scimv1.ScimUserSpec{UserName: "alice@example.com"}},
		want: []string{`"userId":"uid-1"`, `"userName":"alice@example.com"`, `"userSource":"deletedScimUser"`, `"userLookupError":"`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := auditLines(t, brokenReader{}, tt.opts, func(a *auditor) {
				if tt.deleted != nil {
					a.userDeleted(tt.deleted)
				}
				revoke(a, tt.subject)
			})
			if len(lines) != 1 {
				t.Fatalf("want one audit line, got %d: %v", len(lines), lines)
			}
			for _, w := range tt.want {
				if !strings.Contains(lines[0], w) {
					t.Errorf("audit line lacks %s: %s", w, lines[0])
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(lines[0], w) {
					t.Errorf("audit line has %s: %s", w, lines[0])
				}
			}
		})
	}
}

func TestRevocationLineOfAFoundUserSaysWhereItCameFrom(t *testing.T) {
	lines := auditLines(t, brokenReader{}, Options{}, func(a *auditor) {
		owner := subjectOwner{userID: "uid-2", userName: "bob", source: userFromScimUser}
		a.record(&scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}},
			[]accessChange{{granted: true, subject: rbacv1.Subject{Kind: rbacv1.UserKind, Name: "bob"}, owner: owner}})
	})
	if len(lines) != 1 || !strings.Contains(lines[0], `"userSource":"ScimUser"`) || strings.Contains(lines[0], "userLookupError") {
		t.Errorf("audit line: %v", lines)
	}
}

// startManager runs a manager of its own partition until the returned func (or the test's end)
// stops it; stop returns once the manager has shut down.
func startManager(t *testing.T, partition string, opts Options) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := newTestManager(ctx, testCfg, partition, opts, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager of partition %s: %v", partition, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// A user deleted while no controller runs leaves no tombstone; the revocation written after the
// restart still names the user, from the subject.
func TestRevocationAfterRestartNamesTheUser(t *testing.T) {
	opts := Options{SubjectPrefix: "restart:", BindableRoles: []RoleName{{"ClusterRole", readerRole}}}
	ns := newNamespace(t, "restart-a", nil)
	g := newGroup(t, "restart", "restart-devs")
	b := newBinding(t, "restart", "restart-read", g, ns.Name)
	wendy := newUser(t, "restart", "wendy", g.Name)

	stop := startManager(t, "restart", opts)
	eventually(t, "bound", expectSubjects(b.Name, ns.Name, "restart:wendy"))
	stop()
	if err := k8s.Delete(context.Background(), wendy); err != nil {
		t.Fatal(err)
	}
	startManager(t, "restart", opts)
	eventually(t, "unbound after the restart", expectSubjects(b.Name, ns.Name))
	eventually(t, "revocation audited with the user's name", func() error {
		lines := auditSink.matching(`"change":"revoked"`, `"binding":"restart-read"`, `"subject":"restart:wendy"`)
		for _, l := range lines {
			if strings.Contains(l, `"userName":"wendy"`) && strings.Contains(l, `"userSource":"subject"`) {
				return nil
			}
		}
		return fmt.Errorf("no revocation line naming wendy among %v", lines)
	})
}
