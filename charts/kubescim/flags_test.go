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

package chart_test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
)

var usageFlag = regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`)

// TestManagerArgsAreFlagsOfTheBinary keeps the chart in step with the binary: every argument
// each Deployment (both layouts, and a fleet member's) passes, with every optional feature on, is a flag kubescim
// defines, and so is every argument of the uninstall hook's `kubescim cleanup`.
func TestManagerArgsAreFlagsOfTheBinary(t *testing.T) {
	binary := filepath.Join(t.TempDir(), "kubescim")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", binary, ".")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building kubescim: %v\n%s", err, out)
	}
	flagsOf := func(args ...string) map[string]bool {
		usage, err := exec.CommandContext(t.Context(), binary, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("kubescim %v: %v\n%s", args, err, usage)
		}
		defined := map[string]bool{}
		for _, m := range usageFlag.FindAllStringSubmatch(string(usage), -1) {
			defined[m[1]] = true
		}
		return defined
	}
	manager, cleanup := flagsOf("-h"), flagsOf("cleanup", "-h")

	features := []string{"scim.tls.enabled=true", "scim.tls.secretName=tls", "scim.externalURL=https://scim.example.com",
		"subject.prefix=oidc:", "serviceAccounts.enabled=true", "serviceAccounts.createNamespace=false"}
	checked := 0
	for _, layout := range [][]string{{"components.combined=false"}, {"components.combined=true"}, memberValues} {
		objs := render(t, append(slices.Clone(features), layout...)...)
		for name, d := range deployments(objs) {
			args := d.Spec.Template.Spec.Containers[0].Args
			if len(args) < 10 {
				t.Fatalf("only %d args rendered for %s: %v", len(args), name, args)
			}
			checkArgs(t, name, args, manager)
			checked++
		}
		var job batchv1.Job
		find(t, objs, "Job", "", &job)
		args := job.Spec.Template.Spec.Containers[0].Args
		if args[0] != "cleanup" {
			t.Fatalf("cleanup Job args %v do not start with the cleanup command", args)
		}
		checkArgs(t, "cleanup Job", args[1:], cleanup)
	}
	if checked != 4 {
		t.Errorf("checked %d Deployments, want 4 (scim, controller, combined, member's controller)", checked)
	}
}

func checkArgs(t *testing.T, who string, args []string, defined map[string]bool) {
	t.Helper()
	for _, arg := range args {
		name, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if !defined[name] {
			t.Errorf("%s passes %s, but kubescim defines no flag %q there", who, arg, name)
		}
	}
}
