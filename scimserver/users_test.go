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
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func TestUserLifecycle(t *testing.T) {
	userName := uniq(t, "Alice")
	created := call(t, http.MethodPost, "/scim/v2/Users", map[string]any{
		"schemas":                  []string{"urn:ietf:params:scim:schemas:core:2.0:User", enterpriseURN},
		"userName":                 userName,
		"externalId":               "ext-alice",
		"password":                 "hunter2-never-stored",
		"name":                     map[string]any{"givenName": "Alice", "familyName": "Liddell"},
		"emails":                   []any{map[string]any{"value": "alice@example.com", "type": "work", "primary": true}},
		enterpriseURN:              map[string]any{"department": "R&D", "manager": map[string]any{"value": "boss-id"}},
		"urn:okta:custom:1.0:User": map[string]any{"shoeSize": 42.5, "tags": []any{"a", "b"}},
	}).expect(t, http.StatusCreated)
	id := created.str("id")
	meta, _ := created.body["meta"].(map[string]any)
	if meta["resourceType"] != "User" || meta["location"] != serverURL+"/scim/v2/Users/"+id || meta["created"] == nil || meta["lastModified"] == nil {
		t.Errorf("meta = %v", meta)
	}
	if created.header.Get("ETag") == "" || created.header.Get("ETag") != meta["version"] {
		t.Errorf("ETag %q, meta.version %v", created.header.Get("ETag"), meta["version"])
	}
	if created.header.Get("Location") != meta["location"] {
		t.Errorf("Location %q", created.header.Get("Location"))
	}
	if strings.Contains(created.raw, "hunter2") {
		t.Errorf("password echoed: %s", created.raw)
	}
	if _, ok := created.body["active"]; ok {
		t.Errorf("active was not sent, so it is unassigned, but the answer shows it: %s", created.raw)
	}

	// Stored as a ScimUser named after the userName, with the audit annotations.
	u := userByScimID(t, id)
	if u.Name != v1alpha1.ObjectNameFor(userName) || u.Spec.UserName != userName {
		t.Errorf("object %s userName %s", u.Name, u.Spec.UserName)
	}
	if u.Annotations[v1alpha1.ChangedByAnnotation] != "okta" || u.Annotations[v1alpha1.ChangedAtAnnotation] == "" {
		t.Errorf("annotations %v", u.Annotations)
	}
	if u.Spec.Enterprise == nil || u.Spec.Enterprise.Department != "R&D" || u.Spec.Enterprise.Manager.Value != "boss-id" {
		t.Errorf("enterprise %+v", u.Spec.Enterprise)
	}
	raw, _ := json.Marshal(u.Spec)
	if strings.Contains(string(raw), "hunter2") {
		t.Error("password stored")
	}

	got := call(t, http.MethodGet, "/scim/v2/Users/"+id, nil).expect(t, http.StatusOK)
	custom, _ := got.body["urn:okta:custom:1.0:User"].(map[string]any)
	if custom["shoeSize"] != 42.5 || fmt.Sprint(custom["tags"]) != "[a b]" {
		t.Errorf("unknown extension not round-tripped: %v", got.body["urn:okta:custom:1.0:User"])
	}
	if ent, _ := got.body[enterpriseURN].(map[string]any); ent["department"] != "R&D" {
		t.Errorf("enterprise = %v", got.body[enterpriseURN])
	}

	// Deactivation keeps the user readable, also by filter.
	call(t, http.MethodPut, "/scim/v2/Users/"+id, map[string]any{"userName": userName, "active": false}).expect(t, http.StatusOK)
	got = call(t, http.MethodGet, "/scim/v2/Users/"+id, nil).expect(t, http.StatusOK)
	if got.body["active"] != false {
		t.Errorf("active = %v", got.body["active"])
	}
	list := call(t, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", userName)), nil).expect(t, http.StatusOK)
	if list.body["totalResults"] != float64(1) {
		t.Errorf("inactive user not found by filter: %s", list.raw)
	}

	call(t, http.MethodDelete, "/scim/v2/Users/"+id, nil).expect(t, http.StatusNoContent)
	call(t, http.MethodGet, "/scim/v2/Users/"+id, nil).expectError(t, http.StatusNotFound, "")
	call(t, http.MethodDelete, "/scim/v2/Users/"+id, nil).expectError(t, http.StatusNotFound, "")
}

// TestActiveCanBeUnassigned: RFC 7643 gives active no default, and RFC 7644 §3.5.2.2 makes a
// remove leave it unassigned. Unassigned is stored as no value, not shown, matches no filter on
// active, and grants nothing (IsActive false).
func TestActiveCanBeUnassigned(t *testing.T) {
	userName := uniq(t, "unassigned")
	id := createUser(t, userName, nil)
	path := "/scim/v2/Users/" + id
	unassigned := func(step string, r response) {
		t.Helper()
		if _, ok := r.body["active"]; ok {
			t.Errorf("%s: active shown as %v", step, r.body["active"])
		}
		if u := userByScimID(t, id); u.Spec.Active != nil || u.Spec.IsActive() {
			t.Errorf("%s: stored active %v, want unassigned and inactive", step, u.Spec.Active)
		}
		found := call(t, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q and active eq true", userName)), nil)
		if found.body["totalResults"] != float64(0) {
			t.Errorf("%s: an unassigned active matches active eq true", step)
		}
	}
	unassigned("POST without active", call(t, http.MethodGet, path, nil).expect(t, http.StatusOK))

	activate := patchBody(map[string]any{"op": "replace", "path": "active", "value": true})
	for _, step := range []struct {
		name string
		op   map[string]any
	}{
		{"remove with path active", map[string]any{"op": "remove", "path": "active"}},
		{"path-less replace with null", map[string]any{"op": "replace", "value": map[string]any{"active": nil}}},
	} {
		if r := call(t, http.MethodPatch, path, activate).expect(t, http.StatusOK); r.body["active"] != true {
			t.Fatalf("active after replace true = %v", r.body["active"])
		}
		unassigned(step.name, call(t, http.MethodPatch, path, patchBody(step.op)).expect(t, http.StatusOK))
	}
	call(t, http.MethodPatch, path, activate).expect(t, http.StatusOK)
	unassigned("PUT without active", call(t, http.MethodPut, path, map[string]any{"userName": userName}).expect(t, http.StatusOK))
}

func TestUserPutSemantics(t *testing.T) {
	userName := uniq(t, "bob")
	id := createUser(t, userName, map[string]any{
		"displayName": "Bob", "title": "Engineer",
		"emails":                   []any{map[string]any{"value": "bob@example.com"}},
		"urn:okta:custom:1.0:User": map[string]any{"x": "y"},
	})
	renamed := strings.ToUpper(userName[:1]) + userName[1:] + "-renamed"
	r := call(t, http.MethodPut, "/scim/v2/Users/"+id, map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"id":          "some-other-id",                // read-only: ignored
		"meta":        map[string]any{"created": "x"}, // read-only: ignored
		"groups":      []any{map[string]any{"value": "g"}},
		"userName":    renamed,
		"displayName": "Robert",
		"adreses":     []any{map[string]any{"country": "x"}}, // unknown: ignored
	}).expect(t, http.StatusOK)
	if r.str("id") != id || r.str("userName") != renamed || r.str("displayName") != "Robert" {
		t.Errorf("PUT answer %s", r.raw)
	}
	if _, ok := r.body["title"]; ok {
		t.Error("omitted attribute title not cleared")
	}
	if _, ok := r.body["emails"]; ok {
		t.Error("omitted attribute emails not cleared")
	}
	if _, ok := r.body["urn:okta:custom:1.0:User"]; ok {
		t.Error("omitted extension not cleared")
	}
	u := userByScimID(t, id)
	if u.Name != v1alpha1.ObjectNameFor(userName) {
		t.Errorf("object renamed to %s", u.Name)
	}
	// Renaming onto another user's userName (any case) is a conflict.
	other := uniq(t, "carol")
	createUser(t, other, nil)
	call(t, http.MethodPut, "/scim/v2/Users/"+id, map[string]any{"userName": strings.ToUpper(other)}).
		expectError(t, http.StatusConflict, "uniqueness")
	call(t, http.MethodPut, "/scim/v2/Users/"+id, map[string]any{"displayName": "no userName"}).
		expectError(t, http.StatusBadRequest, "invalidValue")
	call(t, http.MethodPut, "/scim/v2/Users/nope", map[string]any{"userName": "x"}).expectError(t, http.StatusNotFound, "")
	// CRD validation failures come back as invalidValue with the API server's message.
	call(t, http.MethodPut, "/scim/v2/Users/"+id, map[string]any{"userName": renamed, "title": strings.Repeat("t", 300)}).
		expectError(t, http.StatusBadRequest, "invalidValue")
}

func TestUserNameUniqueness(t *testing.T) {
	userName := uniq(t, "Dave")
	createUser(t, userName, nil)
	for _, variant := range []string{userName, strings.ToUpper(userName), strings.ToLower(userName)} {
		call(t, http.MethodPost, "/scim/v2/Users", map[string]any{"userName": variant}).expectError(t, http.StatusConflict, "uniqueness")
	}
	// Case is preserved.
	list := call(t, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", strings.ToUpper(userName))), nil).expect(t, http.StatusOK)
	res, _ := list.body["Resources"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["userName"] != userName {
		t.Errorf("case-insensitive lookup: %s", list.raw)
	}
}

func TestConcurrentCreatesYieldOneUser(t *testing.T) {
	userName := uniq(t, "race")
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := userName
			if i%2 == 1 {
				name = strings.ToUpper(userName)
			}
			statuses[i] = call(t, http.MethodPost, "/scim/v2/Users", map[string]any{"userName": name}).status
		}()
	}
	wg.Wait()
	created, conflicts := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			conflicts++
		}
	}
	if created != 1 || conflicts != 9 {
		t.Fatalf("statuses %v: want exactly one 201 and nine 409", statuses)
	}
}

func TestRenamedUserFreesItsName(t *testing.T) {
	first := uniq(t, "erin")
	id := createUser(t, first, nil)
	call(t, http.MethodPut, "/scim/v2/Users/"+id, map[string]any{"userName": first + "-old"}).expect(t, http.StatusOK)
	// The object name derived from first is still taken by the renamed user; a new user with
	// that userName gets a generated name.
	id2 := createUser(t, first, nil)
	u := userByScimID(t, id2)
	if !strings.HasPrefix(u.Name, v1alpha1.ObjectNameFor(first)+"-") {
		t.Errorf("name %s", u.Name)
	}
}

func TestUserCreatedWithKubectl(t *testing.T) {
	ctx := context.Background()
	u := &v1alpha1.ScimUser{
		ObjectMeta: metav1.ObjectMeta{Name: "hand-made-" + uniq(t, "u")[:20]},
		Spec: v1alpha1.ScimUserSpec{
			UserName:   uniq(t, "Frank"),
			Extensions: map[string]apiextensionsv1.JSON{"urn:acme:1.0:User": {Raw: []byte(`{"badge":7}`)}},
		},
	}
	if err := k8sClient.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	id := string(u.UID)
	var got response
	eventually(t, 5e9, func() error {
		got = call(t, http.MethodGet, "/scim/v2/Users/"+id, nil)
		if got.status != http.StatusOK {
			return errStatus(got.status)
		}
		return nil
	})
	if got.str("userName") != u.Spec.UserName {
		t.Errorf("userName %q", got.str("userName"))
	}
	// Its userName is taken, whatever its object name.
	call(t, http.MethodPost, "/scim/v2/Users", map[string]any{"userName": strings.ToUpper(u.Spec.UserName)}).
		expectError(t, http.StatusConflict, "uniqueness")
	// Edits made with kubectl show up.
	u.Spec.DisplayName = "Edited by hand"
	if err := k8sClient.Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5e9, func() error {
		if got = call(t, http.MethodGet, "/scim/v2/Users/"+id, nil); got.str("displayName") != "Edited by hand" {
			return fmt.Errorf("displayName %q", got.str("displayName"))
		}
		return nil
	})
	// And SCIM edits keep the object name.
	call(t, http.MethodPut, "/scim/v2/Users/"+id, map[string]any{"userName": u.Spec.UserName, "nickName": "F"}).expect(t, http.StatusOK)
	if userByScimID(t, id).Name != u.Name {
		t.Error("object name changed")
	}
	// Its id stays its uid through SCIM writes: the id label is never added to it.
	got = call(t, http.MethodPatch, "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "replace", "path": "nickName", "value": "G"})).
		expect(t, http.StatusOK)
	if got.str("id") != id {
		t.Errorf("id after a SCIM PATCH is %q, want the uid %s", got.str("id"), id)
	}
	var live v1alpha1.ScimUser
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(u), &live); err != nil {
		t.Fatal(err)
	}
	if l, ok := live.Labels[v1alpha1.IDLabel]; ok || live.Spec.NickName != "G" {
		t.Errorf("after the PATCH: id label %q (set: %v), nickName %q", l, ok, live.Spec.NickName)
	}
	call(t, http.MethodGet, "/scim/v2/Users/"+id, nil).expect(t, http.StatusOK)
}

func TestETags(t *testing.T) {
	id := createUser(t, uniq(t, "gina"), nil)
	path := "/scim/v2/Users/" + id
	first := call(t, http.MethodGet, path, nil).expect(t, http.StatusOK)
	etag := first.header.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) {
		t.Fatalf("ETag %q", etag)
	}
	call(t, http.MethodGet, path, nil, "If-None-Match: "+etag).expect(t, http.StatusNotModified)
	call(t, http.MethodGet, path, nil, `If-None-Match: W/"1"`).expect(t, http.StatusOK)

	userName := first.str("userName")
	call(t, http.MethodPut, path, map[string]any{"userName": userName, "title": "x"}, `If-Match: W/"1"`).
		expectError(t, http.StatusPreconditionFailed, "")
	updated := call(t, http.MethodPut, path, map[string]any{"userName": userName, "title": "x"}, "If-Match: "+etag).expect(t, http.StatusOK)
	newTag := updated.header.Get("ETag")
	if newTag == etag {
		t.Error("ETag unchanged after an update")
	}
	// The old ETag is stale now.
	call(t, http.MethodPut, path, map[string]any{"userName": userName, "title": "y"}, "If-Match: "+etag).
		expectError(t, http.StatusPreconditionFailed, "")
	call(t, http.MethodDelete, path, nil, "If-Match: "+etag).expectError(t, http.StatusPreconditionFailed, "")
	call(t, http.MethodDelete, path, nil, "If-Match: "+newTag).expect(t, http.StatusNoContent)
}

func TestListFiltersPaginationAndProjection(t *testing.T) {
	prefix := uniq(t, "list")
	ids := map[string]string{}
	for i, given := range []string{"Ann", "Ben", "Cid", "Dot", "Eve"} {
		userName := fmt.Sprintf("%s-%d@example.com", prefix, i)
		ids[given] = createUser(t, userName, map[string]any{
			"externalId": prefix + "-ext-" + given,
			"name":       map[string]any{"givenName": given, "familyName": "Tester"},
			"emails":     []any{map[string]any{"value": strings.ToLower(given) + "@" + prefix + ".org", "type": "work"}},
			"active":     i%2 == 0,
		})
	}
	q := func(params string) response {
		t.Helper()
		return call(t, http.MethodGet, "/scim/v2/Users?"+params, nil).expect(t, http.StatusOK)
	}
	total := func(r response) int { n, _ := r.body["totalResults"].(float64); return int(n) }
	resources := func(r response) []map[string]any {
		var out []map[string]any
		for _, x := range r.body["Resources"].([]any) {
			out = append(out, x.(map[string]any))
		}
		return out
	}
	f := func(s string) string { return "filter=" + url.QueryEscape(s) }

	tests := []struct {
		name   string
		params string
		want   int
	}{
		{"userName eq (indexed, any case)", f(fmt.Sprintf(`USERNAME eq %q`, strings.ToUpper(prefix+"-1@example.com"))), 1},
		{"externalId eq (indexed, case-exact)", f(fmt.Sprintf(`externalId eq %q`, prefix+"-ext-Cid")), 1},
		{"externalId eq wrong case", f(fmt.Sprintf(`externalId eq %q`, prefix+"-ext-cid")), 0},
		{"id eq", f(fmt.Sprintf(`id eq %q`, ids["Dot"])), 1},
		{"sw", f(fmt.Sprintf(`userName sw %q`, prefix)), 5},
		{"and/or/not with grouping", f(fmt.Sprintf(`userName sw %q and (name.givenName eq "Ann" or name.givenName eq "Eve") and not (active eq false)`, prefix)), 2},
		{"value path", f(fmt.Sprintf(`emails[type eq "work" and value co %q]`, "ben@")), 1},
		{"active as boolean", f(fmt.Sprintf(`userName sw %q and active eq true`, prefix)), 3},
		{"meta.created gt", f(fmt.Sprintf(`userName sw %q and meta.created gt "2015-10-10T14:38:21Z"`, prefix)), 5},
		{"plus-encoded spaces", "filter=" + strings.ReplaceAll(url.QueryEscape(fmt.Sprintf(`userName sw %q`, prefix)), "%20", "+"), 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := total(q(tt.params)); got != tt.want {
				t.Errorf("totalResults %d, want %d", got, tt.want)
			}
		})
	}

	t.Run("pagination and sort", func(t *testing.T) {
		page := q(f(fmt.Sprintf(`userName sw %q`, prefix)) + "&sortBy=name.givenName&sortOrder=descending&startIndex=2&count=2")
		rs := resources(page)
		if total(page) != 5 || page.body["startIndex"] != float64(2) || page.body["itemsPerPage"] != float64(2) || len(rs) != 2 {
			t.Fatalf("page %s", page.raw)
		}
		if rs[0]["id"] != ids["Dot"] || rs[1]["id"] != ids["Cid"] {
			t.Errorf("descending page 2 = %v, %v", rs[0]["name"], rs[1]["name"])
		}
		zero := q(f(fmt.Sprintf(`userName sw %q`, prefix)) + "&count=0&startIndex=0")
		if total(zero) != 5 || len(resources(zero)) != 0 || zero.body["startIndex"] != float64(1) {
			t.Errorf("count=0: %s", zero.raw)
		}
		clamped := q(f(fmt.Sprintf(`userName sw %q`, prefix)) + "&count=100000")
		if len(resources(clamped)) != 5 {
			t.Errorf("clamped count: %d", len(resources(clamped)))
		}
		past := q(f(fmt.Sprintf(`userName sw %q`, prefix)) + "&startIndex=99")
		if len(resources(past)) != 0 || past.body["Resources"] == nil {
			t.Errorf("past the end: %s", past.raw)
		}
	})

	t.Run("attributes and excludedAttributes", func(t *testing.T) {
		only := resources(q(f(fmt.Sprintf(`id eq %q`, ids["Ann"])) + "&attributes=userName,emails.value"))[0]
		if only["id"] == nil || only["userName"] == nil || only["emails"] == nil || only["name"] != nil || only["active"] != nil {
			t.Errorf("attributes projection: %v", only)
		}
		without := resources(q(f(fmt.Sprintf(`id eq %q`, ids["Ann"])) + "&excludedAttributes=name,emails"))[0]
		if without["name"] != nil || without["emails"] != nil || without["userName"] == nil {
			t.Errorf("excludedAttributes projection: %v", without)
		}
		single := call(t, http.MethodGet, "/scim/v2/Users/"+ids["Ann"]+"?attributes=name.givenName", nil).expect(t, http.StatusOK)
		if single.body["userName"] != nil || single.body["name"] == nil {
			t.Errorf("single GET projection: %s", single.raw)
		}
	})

	t.Run("search endpoints", func(t *testing.T) {
		search := map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
			"filter":     fmt.Sprintf(`userName sw %q`, prefix),
			"attributes": []string{"userName"},
			"startIndex": 1, "count": 3, "sortBy": "userName",
		}
		r := call(t, http.MethodPost, "/scim/v2/Users/.search", search).expect(t, http.StatusOK)
		if total(r) != 5 || len(resources(r)) != 3 || resources(r)[0]["userName"] != prefix+"-0@example.com" {
			t.Errorf("/Users/.search: %s", r.raw)
		}
		root := call(t, http.MethodPost, "/scim/v2/.search", search).expect(t, http.StatusOK)
		if total(root) != 5 {
			t.Errorf("/.search: %s", root.raw)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, bad := range []string{`nope eq "x"`, `userName xx "x"`, `userName eq`, `(userName eq "x"`, `name eq "x"`} {
			call(t, http.MethodGet, "/scim/v2/Users?"+f(bad), nil).expectError(t, http.StatusBadRequest, "invalidFilter")
		}
		call(t, http.MethodGet, "/scim/v2/Users?attributes=nope", nil).expectError(t, http.StatusBadRequest, "invalidValue")
		call(t, http.MethodGet, "/scim/v2/Users?count=abc", nil).expectError(t, http.StatusBadRequest, "invalidValue")
		call(t, http.MethodGet, "/scim/v2/Users?sortBy=userName&sortOrder=sideways", nil).expectError(t, http.StatusBadRequest, "invalidValue")
	})
}
