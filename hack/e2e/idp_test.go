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

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	userURN    = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN   = "urn:ietf:params:scim:schemas:core:2.0:Group"
	patchOpURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	errorURN   = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// answer is what one SCIM request got.
type answer struct {
	replica, method, path string
	status                int
	retryAfter            string
	body                  map[string]any
	raw                   string
	err                   error // the connection failed: no SCIM answer at all
	sent, at              time.Time
}

func (a answer) String() string {
	if a.err != nil {
		return fmt.Sprintf("%s %s on %s: %v", a.method, a.path, a.replica, a.err)
	}
	return fmt.Sprintf("%s %s on %s: %d %s (after %s)", a.method, a.path, a.replica, a.status, strings.TrimSpace(a.raw), a.at.Sub(a.sent).Round(time.Millisecond))
}

func (a answer) ok() bool { return a.err == nil && a.status/100 == 2 }

// idp sends SCIM requests as an identity provider does and keeps every answer, so that the test
// can check that each one was a SCIM answer and compare what was acknowledged with what is
// stored.
type idp struct {
	token  string
	client *http.Client

	mu      sync.Mutex
	answers []answer
	// created records the answer to each user creation, by userName.
	created map[string]answer
}

func newIDP(token string) *idp {
	// A fresh connection per request: a replica that stops accepting cannot hold a pooled one.
	return &idp{token: token, created: map[string]answer{},
		client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}}
}

func (p *idp) send(r *replica, method, path string, body any) answer {
	a := answer{replica: r.name, method: method, path: path, sent: time.Now()}
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			panic(err)
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, r.scimURL+path, reader)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := p.client.Do(req)
	if err != nil {
		a.err = err
	} else {
		raw, rerr := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		a.status, a.retryAfter, a.raw, a.err = resp.StatusCode, resp.Header.Get("Retry-After"), string(raw), rerr
		_ = json.Unmarshal(raw, &a.body)
	}
	a.at = time.Now()
	p.mu.Lock()
	p.answers = append(p.answers, a)
	p.mu.Unlock()
	return a
}

// createUser creates userName (active) and records the answer.
func (p *idp) createUser(r *replica, userName string) answer {
	a := p.send(r, http.MethodPost, "/Users", map[string]any{"schemas": []string{userURN}, "userName": userName, "active": true})
	p.mu.Lock()
	p.created[userName] = a
	p.mu.Unlock()
	return a
}

func (p *idp) createGroup(r *replica, displayName string) answer {
	return p.send(r, http.MethodPost, "/Groups", map[string]any{"schemas": []string{groupURN}, "displayName": displayName})
}

func (p *idp) addMember(r *replica, groupID, userID string) answer {
	return p.send(r, http.MethodPatch, "/Groups/"+groupID, patchOp("add", "members", []map[string]any{{"value": userID}}))
}

func (p *idp) setActive(r *replica, userID string, active bool) answer {
	return p.send(r, http.MethodPatch, "/Users/"+userID, patchOp("replace", "active", active))
}

func (p *idp) findUser(r *replica, userName string) answer {
	return p.send(r, http.MethodGet, "/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", userName)), nil)
}

func patchOp(op, path string, value any) map[string]any {
	return map[string]any{"schemas": []string{patchOpURN}, "Operations": []map[string]any{{"op": op, "path": path, "value": value}}}
}

// mustSucceed retries a request of an IdP sequence until it is acknowledged, as IdPs retry 503s,
// and returns the acknowledged answer. Every attempt is kept and checked.
func mustSucceed(t *testing.T, what string, try func() answer) answer {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for {
		a := try()
		if a.ok() {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not acknowledged within %s: %s", what, eventually, a)
		}
		time.Sleep(poll)
	}
}

func id(a answer) string {
	s, _ := a.body["id"].(string)
	return s
}

// checkAnswers fails the test for every request that did not get a proper SCIM answer: a
// dropped connection, a 500, or a 503 without Retry-After or without a SCIM Error document.
func (p *idp) checkAnswers(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	bad, unavailable := 0, 0
	for _, a := range p.answers {
		var problem string
		switch {
		case a.err != nil:
			problem = "no SCIM answer"
		case a.status == http.StatusServiceUnavailable:
			unavailable++
			schemas, _ := a.body["schemas"].([]any)
			if a.retryAfter == "" || !slices.Contains(schemas, any(errorURN)) {
				problem = "503 without Retry-After or SCIM Error document"
			}
		case a.status >= 500:
			problem = "server error"
		}
		if problem != "" {
			bad++
			if bad <= 20 {
				t.Errorf("%s: %s", problem, a)
			}
		}
	}
	t.Logf("%d SCIM requests, %d answered 503 + Retry-After, %d without a proper SCIM answer", len(p.answers), unavailable, bad)
}

// acknowledgedAndRefused splits the user creations by their answer.
func (p *idp) acknowledgedAndRefused() (acked, refused []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, a := range p.created {
		if a.ok() {
			acked = append(acked, name)
		} else {
			refused = append(refused, name)
		}
	}
	return acked, refused
}

// traffic creates users against the replicas route picks, one every interval, until stopped:
// each creation is a whole IdP sequence, sent to one replica.
type traffic struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func startTraffic(p *idp, prefix string, interval time.Duration, route func() *replica) *traffic {
	tr := &traffic{stop: make(chan struct{})}
	tr.wg.Add(1)
	go func() {
		defer tr.wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-tr.stop:
				return
			case <-tick.C:
			}
			tr.wg.Add(1)
			go func() {
				defer tr.wg.Done()
				// Each request goes through the Service on its own.
				if r := route(); r != nil {
					p.createUser(r, fmt.Sprintf("%s-%d@example.com", prefix, n))
				}
				if r := route(); r != nil {
					p.findUser(r, "alice@example.com")
				}
			}()
		}
	}()
	return tr
}

// halt stops sending and waits for the requests in flight.
func (tr *traffic) halt() {
	close(tr.stop)
	tr.wg.Wait()
}
