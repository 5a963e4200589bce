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
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/go-logr/logr"
)

// defaultTokenName names a token file that holds one bare token.
const defaultTokenName = "default"

// minTokenLength is the shortest bearer token accepted, in bytes: shorter ones can be guessed.
// `openssl rand -hex 32` gives 64; the chart generates 48 random alphanumerics.
const minTokenLength = 32

// Token sources, as named in logs and in the kubescim_scim_tokens_rejected gauge.
const (
	tokenSourceFile   = "file"
	tokenSourceSecret = "secret"
)

// tokenStore holds the accepted bearer tokens by name, from the token file and the token Secret.
// Only SHA-256 digests are kept, so comparisons take the same time whatever the token length.
type tokenStore struct {
	mu     sync.RWMutex
	file   map[string][sha256.Size]byte
	secret map[string][sha256.Size]byte
}

func newTokenStore() *tokenStore {
	return &tokenStore{file: map[string][sha256.Size]byte{}, secret: map[string][sha256.Size]byte{}}
}

// authenticate returns the name of the token that equals presented. Every known token is compared,
// in constant time, so the answer's timing does not depend on which one matched.
func (s *tokenStore) authenticate(presented string) (string, bool) {
	digest := sha256.Sum256([]byte(presented))
	s.mu.RLock()
	defer s.mu.RUnlock()
	found := ""
	for _, tokens := range []map[string][sha256.Size]byte{s.file, s.secret} {
		for name, want := range tokens {
			if subtle.ConstantTimeCompare(digest[:], want[:]) == 1 && found == "" {
				found = name
			}
		}
	}
	return found, found != ""
}

func (s *tokenStore) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.file) + len(s.secret)
}

func (s *tokenStore) setFile(tokens map[string]string) {
	d := digests(tokens)
	s.mu.Lock()
	s.file = d
	s.mu.Unlock()
}

func (s *tokenStore) setSecret(tokens map[string]string) {
	d := digests(tokens)
	s.mu.Lock()
	s.secret = d
	s.mu.Unlock()
}

// secretTokens reads the tokens of a token Secret: every data key is a token name, its value
// (trimmed) the token; empty values are skipped.
func secretTokens(data map[string][]byte) map[string]string {
	tokens := map[string]string{}
	for name, v := range data {
		if t := strings.TrimSpace(string(v)); t != "" {
			tokens[name] = t
		}
	}
	return tokens
}

// strongTokens returns the tokens of at least minTokenLength bytes. Each shorter one is logged
// by name (never its value) and counted in kubescim_scim_tokens_rejected for its source; the
// others load regardless, so one weak token does not lock every IdP out.
func strongTokens(log logr.Logger, source string, tokens map[string]string) map[string]string {
	names := make([]string, 0, len(tokens))
	for name := range tokens {
		names = append(names, name)
	}
	sort.Strings(names)
	strong := make(map[string]string, len(tokens))
	rejected := 0
	for _, name := range names {
		if len(tokens[name]) < minTokenLength {
			rejected++
			log.Error(nil, "Refusing a SCIM bearer token shorter than 32 bytes; replace it, e.g. with `openssl rand -hex 32`",
				"token", name, "source", source)
			continue
		}
		strong[name] = tokens[name]
	}
	tokensRejectedGauge.WithLabelValues(source).Set(float64(rejected))
	return strong
}

func digests(tokens map[string]string) map[string][sha256.Size]byte {
	d := make(map[string][sha256.Size]byte, len(tokens))
	for name, t := range tokens {
		d[name] = sha256.Sum256([]byte(t))
	}
	return d
}

// parseTokenFile reads "name:token" or "name=token" lines (blank lines and # comments are
// skipped). A file holding a single bare token names it "default". A '=' only counts as a
// separator when something other than '=' follows it, so base64 padding stays part of a bare token.
func parseTokenFile(content []byte) (map[string]string, error) {
	tokens := map[string]string{}
	var bare []string
	sc := bufio.NewScanner(bytes.NewReader(content))
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, token, ok := splitTokenLine(line)
		if !ok {
			bare = append(bare, line)
			continue
		}
		if _, dup := tokens[name]; dup {
			return nil, fmt.Errorf("line %d: token name %q appears twice", lineNo, name)
		}
		tokens[name] = token
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	switch {
	case len(bare) == 1 && len(tokens) == 0:
		tokens[defaultTokenName] = bare[0]
	case len(bare) > 0:
		return nil, fmt.Errorf("%d lines are not of the form name:token", len(bare))
	}
	return tokens, nil
}

func splitTokenLine(line string) (name, token string, ok bool) {
	if i := strings.IndexByte(line, ':'); i >= 0 {
		name, token = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		return name, token, name != "" && token != ""
	}
	if i := strings.IndexByte(line, '='); i >= 0 && strings.Trim(line[i:], "=") != "" {
		name, token = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		return name, token, name != "" && token != ""
	}
	return "", "", false
}
