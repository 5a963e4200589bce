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
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// TestCreateIsOneWrite proves that a SCIM create writes its object once: the id is a UUID in
// the id label of the create request, not a uid labelled by a second write. A watch opened
// before the POST sees the object's ADDED event at the resourceVersion the object still has,
// and no other event for it.
func TestCreateIsOneWrite(t *testing.T) {
	ctx := context.Background()
	wc, err := client.NewWithWatch(testMgr.GetConfig(), client.Options{Scheme: testMgr.GetScheme()})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []struct {
		name   string
		create func() string
		list   client.ObjectList
		get    func(id string) client.Object
	}{
		{"User", func() string { return createUser(t, uniq(t, "once"), nil) }, &v1alpha1.ScimUserList{},
			func(id string) client.Object { return userByScimID(t, id) }},
		{"Group", func() string { return createGroup(t, uniq(t, "once-group")) }, &v1alpha1.ScimGroupList{},
			func(id string) client.Object { return groupByScimID(t, id) }},
	} {
		t.Run(kind.name, func(t *testing.T) {
			if err := wc.List(ctx, kind.list, client.Limit(1)); err != nil {
				t.Fatal(err)
			}
			w, err := wc.Watch(ctx, kind.list, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: kind.list.GetResourceVersion()}})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			id := kind.create()
			if _, err := uuid.Parse(id); err != nil {
				t.Fatalf("id %q is not a UUID: %v", id, err)
			}
			obj := kind.get(id)
			if obj.GetLabels()[v1alpha1.IDLabel] != id || string(obj.GetUID()) == id {
				t.Fatalf("id %s, label %q, uid %s: the id must be the label, not the uid", id, obj.GetLabels()[v1alpha1.IDLabel], obj.GetUID())
			}
			var events []string
			timeout := time.After(30 * time.Second)
			for {
				select {
				case ev := <-w.ResultChan():
					o, ok := ev.Object.(client.Object)
					if !ok || o.GetName() != obj.GetName() {
						continue
					}
					events = append(events, fmt.Sprintf("%s@%s", ev.Type, o.GetResourceVersion()))
					if o.GetResourceVersion() != obj.GetResourceVersion() {
						continue
					}
					if want := fmt.Sprintf("%s@%s", watch.Added, obj.GetResourceVersion()); len(events) != 1 || events[0] != want {
						t.Fatalf("events for the new object: %v, want only %s", events, want)
					}
					return
				case <-timeout:
					t.Fatalf("no event at the object's resourceVersion %s; saw %v", obj.GetResourceVersion(), events)
				}
			}
		})
	}
}

// TestDuplicateIDLabel copies a SCIM-made user with its id label under another name, as
// `kubectl get -o yaml | kubectl create` would: a lookup by id (from the cache, and read through
// on a replica whose cache misses users) and a write by id reach the original, the oldest; the
// copy is still listed by a filter, and left untouched.
func TestDuplicateIDLabel(t *testing.T) {
	ctx := context.Background()
	userName := uniq(t, "dup")
	id := createUser(t, userName, nil)
	orig := userByScimID(t, id)
	cp := &v1alpha1.ScimUser{
		// "zz-" sorts after the original's name, which decides when both were created in the
		// same second.
		ObjectMeta: metav1.ObjectMeta{Name: "zz-" + orig.Name, Labels: orig.Labels},
		Spec:       v1alpha1.ScimUserSpec{UserName: "zz-" + userName, NickName: "copy"},
	}
	if err := k8sClient.Create(ctx, cp); err != nil {
		t.Fatal(err)
	}
	filter := "/scim/v2/Users?filter=" + url.QueryEscape(fmt.Sprintf("id eq %q", id))
	eventually(t, 10*time.Second, func() error {
		if r := call(t, http.MethodGet, filter, nil); r.body["totalResults"] != float64(2) {
			return fmt.Errorf("filter by id: %s", r.raw)
		}
		return nil
	})
	blind := startReplica(t, map[client.Object]cache.ByObject{
		&v1alpha1.ScimUser{}: {Label: labels.SelectorFromSet(labels.Set{"kubescim.io/test": "never"})},
	})
	for _, base := range []string{"", blind} {
		var r response
		if base == "" {
			r = call(t, http.MethodGet, "/scim/v2/Users/"+id, nil)
		} else {
			r = callURL(t, base, testToken, http.MethodGet, "/scim/v2/Users/"+id, nil)
		}
		if r.expect(t, http.StatusOK); r.str("userName") != userName {
			t.Errorf("GET by id on %q answered userName %q, want the original's", base, r.str("userName"))
		}
	}
	call(t, http.MethodPatch, "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "replace", "path": "nickName", "value": "original"})).
		expect(t, http.StatusOK)
	var got v1alpha1.ScimUser
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(orig), &got); err != nil || got.Spec.NickName != "original" {
		t.Errorf("original after the PATCH: nickName %q, err %v", got.Spec.NickName, err)
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(cp), &got); err != nil || got.Spec.NickName != "copy" {
		t.Errorf("copy after the PATCH: nickName %q, err %v", got.Spec.NickName, err)
	}
	gid := createGroup(t, uniq(t, "dup-group"), id)
	if m := groupMemberIDs(t, gid); len(m) != 1 || !m[id] {
		t.Errorf("group members %v, want only %s", m, id)
	}
	var members v1alpha1.ScimUserList
	if err := k8sClient.List(ctx, &members); err != nil {
		t.Fatal(err)
	}
	for _, u := range members.Items {
		if u.Name == cp.Name && len(u.Spec.MemberOf) > 0 {
			t.Errorf("the copy joined %v", u.Spec.MemberOf)
		}
	}
}
