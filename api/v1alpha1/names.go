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

package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxSlugLength leaves room for "-" and the hash inside a 63-character label-safe name.
const maxSlugLength = 40

// ObjectNameFor returns the object name kubescim gives a ScimUser (key = userName) or a
// ScimGroup (key = displayName) created through SCIM: a readable slug of the lower-cased key
// plus a hash of it, e.g. "alice-example-com-2bd806c97f". Keys that differ only in case map to
// the same name, so the API server's own name uniqueness rejects a second create atomically,
// also across replicas.
func ObjectNameFor(key string) string {
	lower := strings.ToLower(key)
	var b strings.Builder
	dash := false
	for _, r := range lower {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= maxSlugLength {
			break
		}
	}
	slug := strings.Trim(b.String(), "-")
	if len(slug) > maxSlugLength {
		slug = strings.TrimRight(slug[:maxSlugLength], "-")
	}
	sum := sha256.Sum256([]byte(lower))
	hash := hex.EncodeToString(sum[:5])
	if slug == "" {
		return "x-" + hash
	}
	return slug + "-" + hash
}
