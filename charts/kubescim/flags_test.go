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
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

var usageFlag = regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`)

// TestManagerArgsAreFlagsOfTheBinary keeps the chart in step with main.go: every argument the
// Deployment passes, with every optional feature on, is a flag the kubescim binary defines.
func TestManagerArgsAreFlagsOfTheBinary(t *testing.T) {
	binary := filepath.Join(t.TempDir(), "kubescim")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", binary, ".")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building kubescim: %v\n%s", err, out)
	}
	usage, err := exec.CommandContext(t.Context(), binary, "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("kubescim -h: %v\n%s", err, usage)
	}
	defined := map[string]bool{}
	for _, m := range usageFlag.FindAllStringSubmatch(string(usage), -1) {
		defined[m[1]] = true
	}

	var d appsv1.Deployment
	find(t, render(t, "scim.tls.enabled=true", "scim.tls.secretName=tls", "scim.externalURL=https://scim.example.com",
		"subject.prefix=oidc:", "serviceAccounts.enabled=true"), "Deployment", "", &d)
	args := d.Spec.Template.Spec.Containers[0].Args
	if len(args) < 15 {
		t.Fatalf("only %d manager args rendered: %v", len(args), args)
	}
	for _, arg := range args {
		name, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if !defined[name] {
			t.Errorf("chart passes %s, but kubescim defines no flag %q", arg, name)
		}
	}
}
