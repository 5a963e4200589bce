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

package main

import (
	"flag"
	"strings"
	"testing"

	"github.com/kubescim/kubescim/controllers"
)

func parse(t *testing.T, args ...string) (*config, error) {
	t.Helper()
	fs := flag.NewFlagSet("kubescim", flag.ContinueOnError)
	c := bindFlags(fs, false)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c, c.complete()
}

func TestComponentsFlag(t *testing.T) {
	for _, tc := range []struct {
		flag string
		want components
		err  string
	}{
		{"", components{scim: true, controllers: true}, ""}, // the default
		{"--components=scim,controllers", components{scim: true, controllers: true}, ""},
		{"--components=controllers, scim", components{scim: true, controllers: true}, ""},
		{"--components=scim", components{scim: true}, ""},
		{"--components=controllers", components{controllers: true}, ""},
		{"--components=webhook", components{}, `unknown component "webhook"`},
		{"--components=", components{}, "unknown component"},
	} {
		args := []string{"--scim-token-file=/dev/null"}
		if tc.flag != "" {
			args = append(args, tc.flag)
		}
		c, err := parse(t, args...)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.flag, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.flag, err)
		case tc.err == "" && c.components != tc.want:
			t.Errorf("%q: components %+v, want %+v", tc.flag, c.components, tc.want)
		}
	}
}

func TestTokensAreRequiredOnlyForTheSCIMComponent(t *testing.T) {
	if _, err := parse(t, "--components=scim"); err == nil || !strings.Contains(err.Error(), "no SCIM tokens") {
		t.Errorf("SCIM component without tokens: %v, want a 'no SCIM tokens' error", err)
	}
	if _, err := parse(t, "--components=controllers"); err != nil {
		t.Errorf("controllers component without tokens: %v", err)
	}
}

func TestLeaderElectionFlags(t *testing.T) {
	c, err := parse(t, "--components=controllers", "--leader-elect", "--leader-election-namespace=kubescim-system",
		"--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline=20s", "--leader-elect-retry-period=4s")
	if err != nil {
		t.Fatal(err)
	}
	want := controllers.LeaderElection{Namespace: "kubescim-system", Name: leaseName,
		LeaseDuration: 30e9, RenewDeadline: 20e9, RetryPeriod: 4e9}
	if c.election != want {
		t.Errorf("election %+v, want %+v", c.election, want)
	}
	c, err = parse(t, "--components=controllers")
	if err != nil {
		t.Fatal(err)
	}
	if c.election.LeaseDuration != controllers.DefaultLeaseDuration || c.election.RenewDeadline != controllers.DefaultRenewDeadline ||
		c.election.RetryPeriod != controllers.DefaultRetryPeriod {
		t.Errorf("default lease settings %+v, want 15s/10s/2s", c.election)
	}
}

func TestShutdownFlags(t *testing.T) {
	c, err := parse(t, "--scim-token-file=/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	if c.scim.ShutdownDelay != 5e9 || c.scim.ShutdownTimeout != 25e9 {
		t.Errorf("shutdown delay %s and timeout %s, want 5s and 25s", c.scim.ShutdownDelay, c.scim.ShutdownTimeout)
	}
	if _, err := parse(t, "--scim-token-file=/dev/null", "--shutdown-delay=30s"); err == nil {
		t.Error("a shutdown delay longer than the timeout was accepted")
	}
}

func TestAuthzWebhookFlags(t *testing.T) {
	tlsFlags := []string{"--authz-webhook-bind-address=:9443", "--authz-webhook-tls-cert-file=tls.crt", "--authz-webhook-tls-key-file=tls.key"}
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"off by default", []string{"--components=controllers"}, ""},
		{"client CA", append([]string{"--components=controllers", "--authz-webhook-client-ca=ca.crt"}, tlsFlags...), ""},
		{"token", append([]string{"--components=controllers", "--authz-webhook-token-file=token"}, tlsFlags...), ""},
		{"no caller authentication", append([]string{"--components=controllers"}, tlsFlags...), "to authenticate the API server"},
		{"no TLS", []string{"--components=controllers", "--authz-webhook-bind-address=:9443", "--authz-webhook-client-ca=ca.crt"}, "tls-cert-file"},
		{"SCIM component only", append([]string{"--components=scim", "--scim-token-file=/dev/null", "--authz-webhook-client-ca=ca.crt"}, tlsFlags...), "needs the controllers component"},
	} {
		c, err := parse(t, tc.args...)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.name == "off by default" && c.authzWebhookEnabled():
			t.Errorf("%s: the webhook is enabled", tc.name)
		}
	}
}
