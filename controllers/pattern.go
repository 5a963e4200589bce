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

package controllers

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// groupSelector is how a ScimGroupBinding picks its groups: one displayName (spec.group,
// case-insensitive) or an RE2 pattern over whole displayNames (spec.groupPattern), and, with a
// pattern, where each group goes (spec.namespaceTemplate).
type groupSelector struct {
	name     string
	pattern  *regexp.Regexp // anchored; nil for a name
	template []templatePart // nil without namespaceTemplate
}

// templatePart is a literal run of a namespaceTemplate, or (capture != "") one "{capture}".
type templatePart struct {
	literal string
	capture string
}

// selectorOf compiles b's group selection. An error is a spec the API server's validation
// cannot catch (an invalid regular expression, a template naming a capture the pattern lacks)
// and is the binding's refusal.
func selectorOf(b *scimv1.ScimGroupBinding) (groupSelector, error) {
	if b.Spec.GroupPattern == "" {
		return groupSelector{name: b.Spec.Group}, nil
	}
	return compiledSelectors.get(b.Spec.GroupPattern, b.Spec.NamespaceTemplate)
}

// compiledSelectors memoizes compiled patterns: group events consult every pattern binding
// (fan-out), so a pattern is compiled once rather than on every user and group event.
var compiledSelectors = &selectorCache{entries: map[[2]string]compiledSelector{}}

// maxCompiledSelectors bounds the cache; past it, it starts afresh (bindings are few).
const maxCompiledSelectors = 1024

type compiledSelector struct {
	sel groupSelector
	err error
}

type selectorCache struct {
	mu      sync.Mutex
	entries map[[2]string]compiledSelector
}

func (c *selectorCache) get(pattern, template string) (groupSelector, error) {
	key := [2]string{pattern, template}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return e.sel, e.err
	}
	e.sel, e.err = compileSelector(pattern, template)
	c.mu.Lock()
	if len(c.entries) >= maxCompiledSelectors {
		clear(c.entries)
	}
	c.entries[key] = e
	c.mu.Unlock()
	return e.sel, e.err
}

// compileSelector compiles a groupPattern and its namespaceTemplate.
func compileSelector(pattern, template string) (groupSelector, error) {
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return groupSelector{}, fmt.Errorf("invalid groupPattern: %w", err)
	}
	s := groupSelector{pattern: re}
	if template == "" {
		return s, nil
	}
	if s.template, err = parseTemplate(template, re); err != nil {
		return groupSelector{}, fmt.Errorf("invalid namespaceTemplate: %w", err)
	}
	return s, nil
}

// parseTemplate splits "{team}-{env}" into parts, checking every capture exists in re.
func parseTemplate(tmpl string, re *regexp.Regexp) ([]templatePart, error) {
	var parts []templatePart
	for rest := tmpl; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			parts = append(parts, templatePart{literal: rest})
			break
		}
		if open > 0 {
			parts = append(parts, templatePart{literal: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("%q has an unclosed {", tmpl)
		}
		name := rest[open+1 : open+end]
		if name == "" || re.SubexpIndex(name) < 0 {
			return nil, fmt.Errorf("{%s} is not a named capture of groupPattern", name)
		}
		parts = append(parts, templatePart{capture: name})
		rest = rest[open+end+1:]
	}
	return parts, nil
}

// byPattern reports whether the selector is a pattern (which any group may match).
func (s groupSelector) byPattern() bool { return s.pattern != nil }

// matches reports whether a group of this displayName is selected.
func (s groupSelector) matches(displayName string) bool {
	if s.pattern == nil {
		return strings.EqualFold(displayName, s.name)
	}
	return s.pattern.MatchString(displayName)
}

// namespaceFor fills the template from displayName's captures. It returns the namespace, or
// why the group is skipped: the name it would make is not a valid namespace name.
func (s groupSelector) namespaceFor(displayName string) (namespace, skipped string) {
	m := s.pattern.FindStringSubmatch(displayName)
	if m == nil {
		return "", "the displayName does not match groupPattern"
	}
	var sb strings.Builder
	for _, p := range s.template {
		if p.capture == "" {
			sb.WriteString(p.literal)
		} else {
			sb.WriteString(m[s.pattern.SubexpIndex(p.capture)])
		}
	}
	ns := sb.String()
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return "", fmt.Sprintf("namespaceTemplate makes %q, not a valid namespace name: %s", truncate(ns, 80), strings.Join(errs, "; "))
	}
	return ns, ""
}
