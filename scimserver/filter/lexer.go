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
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Limits on filter text (beyond them: invalidFilter).
const (
	MaxFilterLength = 16 << 10 // bounds the parser's work: 16 KiB of OR terms take tens of ms
	MaxDepth        = 16
)

// prepared is filter text ready for the parser: every string literal is replaced by a
// placeholder "N" (N indexes literals), so escapes the parser does not understand ("\u00e9")
// work and whitespace outside literals can be collapsed safely.
type prepared struct {
	text     string
	literals []string
}

// literal returns the decoded string literal behind placeholder s.
func (p *prepared) literal(s string) (string, error) {
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= len(p.literals) {
		return "", fmt.Errorf("unexpected string %q", s)
	}
	return p.literals[i], nil
}

// prepare tokenises s: string literals become placeholders, runs of whitespace outside them
// become one space, leading and trailing space goes, and nesting depth is checked.
func prepare(s string) (*prepared, error) {
	if len(s) > MaxFilterLength {
		return nil, fmt.Errorf("longer than %d bytes", MaxFilterLength)
	}
	p := &prepared{}
	var b strings.Builder
	depth := 0
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			end, err := stringEnd(s, i)
			if err != nil {
				return nil, err
			}
			var lit string
			if err := json.Unmarshal([]byte(s[i:end+1]), &lit); err != nil {
				return nil, fmt.Errorf("invalid string literal at offset %d", i)
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteString(strconv.Quote(strconv.Itoa(len(p.literals))))
			p.literals = append(p.literals, lit)
			i = end
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = true
			continue
		case c == '(' || c == '[':
			depth++
			if depth > MaxDepth {
				return nil, fmt.Errorf("nested deeper than %d levels", MaxDepth)
			}
		case c == ')' || c == ']':
			depth--
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
	}
	p.text = p.quoteBareValues(b.String())
	return p, nil
}

// bareValue matches a compare value written without quotes (`userName sw O`,
// `meta.created gt 2015-10-10T14:38:21Z`), which the Microsoft reference tests send.
var bareValue = regexp.MustCompile(`(?i)( (?:eq|ne|co|sw|ew|gt|ge|lt|le) )([^ "'()\[\]]+)`)

// quoteBareValues turns bare compare values other than true, false, null and numbers into
// string literals.
func (p *prepared) quoteBareValues(s string) string {
	return bareValue.ReplaceAllStringFunc(s, func(m string) string {
		sub := bareValue.FindStringSubmatch(m)
		word := sub[2]
		switch strings.ToLower(word) {
		case "true", "false", "null":
			return m
		}
		if json.Valid([]byte(word)) {
			return m // a number
		}
		placeholder := strconv.Quote(strconv.Itoa(len(p.literals)))
		p.literals = append(p.literals, word)
		return sub[1] + placeholder
	})
}

// stringEnd returns the index of the quote closing the literal that starts at s[start].
func stringEnd(s string, start int) (int, error) {
	for i := start + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i, nil
		}
	}
	return 0, fmt.Errorf("unterminated string literal at offset %d", start)
}

// valuePathTail matches what may follow a value filter's "]": Microsoft Entra ID compares
// a sub-attribute there (`emails[type eq "work"].value eq "x"`), which RFC 7644's filter
// grammar lacks.
var valuePathTail = regexp.MustCompile(`(?i)^\.([a-z0-9_$-]+) (eq|ne|co|sw|ew|gt|ge|lt|le|pr)\b`)

// valueToken is one compare value: a placeholder literal or a bare word (number, true, null).
var valueToken = regexp.MustCompile(`^ ("[0-9]+"|[^ ()\[\]]+)`)

// valuePathName is the attribute name standing in for the i-th value path in the text
// handed to the parser.
func valuePathName(i int) string { return "kubescimValuePath" + strconv.Itoa(i) }

// valuePath is one `attr[filter]` cut out of a filter: the parser's value-filter grammar is
// narrower than RFC 7644's (no mixing of and/or, no grouping), so the bracket content is
// parsed as a filter of its own.
type valuePath struct {
	attr   string
	filter string
}

// extractValuePaths replaces every `attr[filter]` in text by `kubescimValuePathN pr`
// and returns the cut-out parts. Entra's `attr[f].sub op v` becomes the filter
// `(f) and sub op v` on attr.
func extractValuePaths(text string) (string, []valuePath, error) {
	var paths []valuePath
	for {
		open := strings.IndexByte(text, '[')
		if open < 0 {
			if strings.IndexByte(text, ']') >= 0 {
				return "", nil, fmt.Errorf("unbalanced ']'")
			}
			return text, paths, nil
		}
		start := open
		for start > 0 && isPathChar(text[start-1]) {
			start--
		}
		close := strings.IndexByte(text[open:], ']')
		if close < 0 {
			return "", nil, fmt.Errorf("unbalanced '['")
		}
		close += open
		inner := strings.TrimSpace(text[open+1 : close])
		if strings.IndexByte(inner, '[') >= 0 {
			return "", nil, fmt.Errorf("value filter inside a value filter")
		}
		if start == open {
			return "", nil, fmt.Errorf("value filter without attribute")
		}
		end := close + 1
		filter := inner
		if m := valuePathTail.FindStringSubmatch(text[end:]); m != nil {
			end += len(m[0])
			cmp := m[1] + " " + m[2]
			if !strings.EqualFold(m[2], "pr") {
				v := valueToken.FindStringSubmatch(text[end:])
				if v == nil {
					return "", nil, fmt.Errorf("missing compare value after %q", cmp)
				}
				cmp += " " + v[1]
				end += len(v[0])
			}
			filter = "(" + inner + ") and " + cmp
		}
		paths = append(paths, valuePath{attr: text[start:open], filter: filter})
		text = text[:start] + valuePathName(len(paths)-1) + " pr" + text[end:]
	}
}

func isPathChar(c byte) bool {
	return c == '.' || c == ':' || c == '-' || c == '_' || c == '$' ||
		('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}
