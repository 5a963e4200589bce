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
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// TestRequestMetrics drives requests of several routes and outcomes (a 404 id, an unmatched
// path, a 401, a 429) and asserts the series they add, labelled by route template: no id or
// userName ever becomes a label value.
func TestRequestMetrics(t *testing.T) {
	userName := uniq(t, "metrics-user")
	const missing = "00000000-0000-4000-8000-00000000dead"
	type series struct{ route, method, code string }
	want := map[series]float64{
		{"/Users", "POST", "201"}:                1,
		{"/Users/{id}", "GET", "200"}:            1,
		{"/Users/{id}", "GET", "404"}:            1,
		{"/Users", "GET", "200"}:                 1,
		{"/Groups/{id}", "PATCH", "204"}:         1,
		{"/Groups", "POST", "201"}:               1,
		{"/ServiceProviderConfig", "GET", "401"}: 1,
		{"other", "GET", "404"}:                  1,
		{"other", "other", "404"}:                1,
		{"/Bulk", "GET", "405"}:                  1,
	}
	before := map[series]float64{}
	for s := range want {
		before[s] = testutil.ToFloat64(requestsTotal.WithLabelValues(s.route, s.method, s.code))
	}
	durationsBefore := histogramCount(t, "/Users/{id}", "GET")
	unauthorizedBefore := testutil.ToFloat64(authFailuresTotal.WithLabelValues("unauthorized"))

	id := createUser(t, userName, nil)
	call(t, http.MethodGet, "/scim/v2/Users/"+id, nil).expect(t, http.StatusOK)
	call(t, http.MethodGet, "/scim/v2/Users/"+missing, nil).expect(t, http.StatusNotFound)
	call(t, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "`+userName+`"`), nil).expect(t, http.StatusOK)
	gid := createGroup(t, uniq(t, "metrics-group"))
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "add", "path": "members", "value": members(id)})).
		expect(t, http.StatusNoContent)
	callURL(t, serverURL, "", http.MethodGet, "/scim/v2/ServiceProviderConfig", nil).expect(t, http.StatusUnauthorized)
	call(t, http.MethodGet, "/scim/v2/Users/"+id+"/"+userName, nil).expect(t, http.StatusNotFound)
	call(t, "PROPFIND", "/scim/v2/"+userName, nil).expect(t, http.StatusNotFound)
	call(t, http.MethodGet, "/scim/v2/Bulk", nil).expect(t, http.StatusMethodNotAllowed)

	for s, n := range want {
		if got := testutil.ToFloat64(requestsTotal.WithLabelValues(s.route, s.method, s.code)) - before[s]; got != n {
			t.Errorf("kubescim_scim_requests_total%+v rose by %v, want %v", s, got, n)
		}
	}
	if got := histogramCount(t, "/Users/{id}", "GET") - durationsBefore; got != 2 {
		t.Errorf("kubescim_scim_request_duration_seconds{/Users/{id},GET} observed %d requests, want 2", got)
	}
	if got := testutil.ToFloat64(authFailuresTotal.WithLabelValues("unauthorized")) - unauthorizedBefore; got != 1 {
		t.Errorf("kubescim_scim_auth_failures_total{unauthorized} rose by %v, want 1", got)
	}

	// The per-token rate limit (burst 2 on limitedSrv) refuses within a few requests.
	limitedBefore := testutil.ToFloat64(rateLimitedTotal.WithLabelValues("okta"))
	tooMany := testutil.ToFloat64(requestsTotal.WithLabelValues("/Users/{id}", "GET", "429"))
	refused := 0
	for range 5 {
		if r := callURL(t, "http://"+limitedSrv.Addr(), testToken, http.MethodGet, "/scim/v2/Users/"+id, nil); r.status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("no request was rate limited")
	}
	if got := testutil.ToFloat64(rateLimitedTotal.WithLabelValues("okta")) - limitedBefore; got != float64(refused) {
		t.Errorf("kubescim_scim_rate_limited_total{okta} rose by %v, want %d", got, refused)
	}
	if got := testutil.ToFloat64(requestsTotal.WithLabelValues("/Users/{id}", "GET", "429")) - tooMany; got != float64(refused) {
		t.Errorf("kubescim_scim_requests_total{/Users/{id},GET,429} rose by %v, want %d", got, refused)
	}

	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "kubescim_scim_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				for _, secret := range []string{id, gid, missing, userName} {
					if strings.Contains(l.GetValue(), secret) {
						t.Errorf("%s has label %s=%q, which holds an id or userName", f.GetName(), l.GetName(), l.GetValue())
					}
				}
			}
		}
	}
}

// histogramCount returns how many requests kubescim_scim_request_duration_seconds observed for
// route and method.
func histogramCount(t *testing.T, route, method string) uint64 {
	t.Helper()
	var m dto.Metric
	if err := requestDuration.WithLabelValues(route, method).(interface{ Write(*dto.Metric) error }).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}
