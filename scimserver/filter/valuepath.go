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

package filter

import (
	"regexp"
	"strings"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// ParseValuePath parses a PATCH path (RFC 7644 §3.5.2): a plain attribute path
// ("name.givenName", "urn:...:User:manager") or a value path selecting values of a complex
// attribute, optionally followed by a sub-attribute (`emails[type eq "work"]`,
// `emails[type eq "work"].value`, `members[value eq "id"]`, and for a single-valued one, which
// Entra sends for the manager, `urn:...:User:manager[value eq "id"]`).
//
// For a plain path, attr is the resolved path (attr.Sub may be set) and elem is nil. For a
// value path, attr names the complex attribute (attr.Sub nil), elem matches its values with
// MatchElement, and sub is the canonical sub-attribute name or "".
// Malformed or unknown paths are *schema.Error{400, invalidPath}; an invalid expression
// inside the brackets is *schema.Error{400, invalidFilter}.
func ParseValuePath(rt *schema.ResourceType, path string) (attr schema.Path, elem *Filter, sub string, err error) {
	p, perr := prepare(path)
	if perr != nil {
		return schema.Path{}, nil, "", invalidPath("%v", perr)
	}
	if !strings.Contains(p.text, "[") {
		attr, err := rt.Resolve(path)
		if err != nil {
			return schema.Path{}, nil, "", invalidPath("%w", err)
		}
		return attr, nil, "", nil
	}
	m := valuePathSyntax.FindStringSubmatch(p.text)
	if m == nil {
		return schema.Path{}, nil, "", invalidPath("malformed path")
	}
	attr, err = rt.Resolve(m[1])
	if err != nil {
		return schema.Path{}, nil, "", invalidPath("%w", err)
	}
	if attr.Sub != nil || !attr.Attr.IsComplex() {
		return schema.Path{}, nil, "", invalidPath("%q is not a complex attribute", attr.String())
	}
	c := compiler{rt: rt, prepared: p}
	root, err := c.elementFilter(attr.Attr, m[2])
	if err != nil {
		return schema.Path{}, nil, "", invalidFilter("%w", err)
	}
	if m[3] != "" {
		s := attr.Attr.SubAttribute(m[3])
		if s == nil {
			return schema.Path{}, nil, "", invalidPath("%w: %q has no sub-attribute %q", schema.ErrUnknownAttribute, attr.String(), m[3])
		}
		sub = s.Name
	}
	return attr, &Filter{root: root}, sub, nil
}

// valuePathSyntax is `attr[filter]` optionally followed by `.sub`, on prepared text (string
// literals already replaced, so brackets inside them cannot confuse it).
var valuePathSyntax = regexp.MustCompile(`^([^\[\] ]+)\[([^\[\]]*)\](?:\.([A-Za-z0-9_$-]+))?$`)
