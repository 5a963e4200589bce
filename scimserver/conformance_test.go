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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// microsoftSpecific lists the requests of the Microsoft SCIM reference collection whose
// assertions hold only for Microsoft's own reference server (see shared/conformance/README.md).
var microsoftSpecific = map[string]bool{
	"Get Token":                              true,
	"Get ServiceProviderConfig":              true,
	"Patch user omalley new username":        true,
	"patch user omalley active with boolean": true,
	"Group patch add member":                 true,
	"Group patch add member2":                true,
	"filter eq and (val or val)":             true,
	"filter starts with":                     true,
	"filter greater than":                    true,
}

// computedMemberDisplay is one more assertion that only Microsoft's server can pass: it expects
// a group's member to carry the "display" the client sent when adding it ("new User"). kubescim
// stores membership on the member (memberOf holds group names only) and computes display from
// the member resource, as the Group schema makes members.display read-only.
var computedMemberDisplay = struct{ request, test string }{"Get group by id", "Body contians user"}

// findUp walks up from the working directory to a directory holding rel.
func findUp(rel string) string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			return filepath.Join(dir, rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// TestMicrosoftConformanceCollection runs Microsoft's SCIMReferenceCode Postman collection with
// newman against this server on an empty store. newman is installed by the Makefile into
// bin/newman.
func TestMicrosoftConformanceCollection(t *testing.T) {
	newman := findUp("bin/newman/node_modules/.bin/newman")
	collection := findUp("shared/conformance/ms-scim-reference-tests.postman_collection.json")
	if newman == "" || collection == "" {
		t.Fatalf("newman (bin/newman, installed by `make test`) or ../shared/conformance not found: newman=%q collection=%q", newman, collection)
	}
	emptyStore(t)

	report := filepath.Join(t.TempDir(), "report.json")
	port := srv.Addr()[strings.LastIndex(srv.Addr(), ":"):]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"run", collection,
		"--env-var", "Protocol=http", "--env-var", "Server=127.0.0.1", "--env-var", "Port=" + port,
		"--env-var", "Api=scim/v2", "--env-var", "token=" + testToken,
		"--reporters", "cli,json", "--reporter-json-export", report}
	// Everything but the "Get Token" folder, which calls a development-only endpoint of
	// Microsoft's server and would overwrite the token with its (absent) answer.
	for _, item := range topLevelItems(t, collection) {
		if item != "Get Token" {
			args = append(args, "--folder", item)
		}
	}
	cmd := exec.CommandContext(ctx, newman, args...)
	out, err := cmd.CombinedOutput()
	if _, statErr := os.Stat(report); statErr != nil {
		t.Fatalf("newman produced no report (%v): %s", err, out)
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Run struct {
			Stats struct {
				Assertions struct{ Total, Failed int } `json:"assertions"`
			} `json:"stats"`
			Failures []struct {
				Source struct{ Name string }          `json:"source"`
				Error  struct{ Test, Message string } `json:"error"`
			} `json:"failures"`
		} `json:"run"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("decoding the newman report: %v", err)
	}
	if rep.Run.Stats.Assertions.Total < 50 {
		t.Fatalf("only %d assertions ran: %s", rep.Run.Stats.Assertions.Total, out)
	}
	failed := 0
	for _, f := range rep.Run.Failures {
		if microsoftSpecific[f.Source.Name] || (f.Source.Name == computedMemberDisplay.request && f.Error.Test == computedMemberDisplay.test && strings.Contains(f.Error.Message, "to include 'new User'")) {
			t.Logf("Microsoft-specific assertion failed (allowed): %s: %s", f.Source.Name, f.Error.Test)
			continue
		}
		failed++
		t.Errorf("%s: %s: %s", f.Source.Name, f.Error.Test, f.Error.Message)
	}
	t.Logf("%d assertions, %d failed, %d of them not Microsoft-specific", rep.Run.Stats.Assertions.Total, rep.Run.Stats.Assertions.Failed, failed)
}

// topLevelItems lists the names of the collection's top-level folders and requests, in order.
func topLevelItems(t *testing.T, collection string) []string {
	t.Helper()
	raw, err := os.ReadFile(collection)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Item []struct{ Name string } `json:"item"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(c.Item))
	for _, it := range c.Item {
		names = append(names, it.Name)
	}
	return names
}

// emptyStore deletes every ScimUser and ScimGroup (releasing group finalizers, as no group
// controller runs here), as the collection expects to start from an empty store.
func emptyStore(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if err := k8sClient.DeleteAllOf(ctx, &v1alpha1.ScimUser{}); err != nil {
		t.Fatal(err)
	}
	var groups v1alpha1.ScimGroupList
	if err := k8sClient.List(ctx, &groups); err != nil {
		t.Fatal(err)
	}
	for i := range groups.Items {
		g := &groups.Items[i]
		if len(g.Finalizers) > 0 {
			patch := client.MergeFrom(g.DeepCopy())
			g.Finalizers = nil
			if err := k8sClient.Patch(ctx, g, patch); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := k8sClient.DeleteAllOf(ctx, &v1alpha1.ScimGroup{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		r := call(t, "GET", "/scim/v2/Users?count=0", nil)
		g := call(t, "GET", "/scim/v2/Groups?count=0", nil)
		if r.body["totalResults"] != float64(0) || g.body["totalResults"] != float64(0) {
			return errStatus(0)
		}
		return nil
	})
}
