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

package schema

import "strings"

// Attribute types (RFC 7643 §2.3).
const (
	TypeString    = "string"
	TypeBoolean   = "boolean"
	TypeDecimal   = "decimal"
	TypeInteger   = "integer"
	TypeDateTime  = "dateTime"
	TypeReference = "reference"
	TypeComplex   = "complex"
	TypeBinary    = "binary"
)

// Attribute characteristics (RFC 7643 §2.2, §7).
const (
	MutabilityReadOnly  = "readOnly"
	MutabilityReadWrite = "readWrite"
	MutabilityImmutable = "immutable"
	MutabilityWriteOnly = "writeOnly"

	ReturnedAlways  = "always"
	ReturnedNever   = "never"
	ReturnedDefault = "default"
	ReturnedRequest = "request"

	UniquenessNone   = "none"
	UniquenessServer = "server"
	UniquenessGlobal = "global"
)

// Attribute is an attribute definition (RFC 7643 §7).
type Attribute struct {
	Name            string
	Type            string
	MultiValued     bool
	Required        bool
	CaseExact       bool
	Mutability      string
	Returned        string
	Uniqueness      string
	CanonicalValues []string
	ReferenceTypes  []string
	Description     string
	SubAttributes   []*Attribute

	// common marks id, externalId and meta: defined for every resource (RFC 7643 §3.1)
	// rather than by a schema, so schema documents leave them out.
	common bool
}

// Schema is a schema definition (RFC 7643 §7).
type Schema struct {
	ID          string
	Name        string
	Description string
	Attributes  []*Attribute
	// Extension marks a schema extension (RFC 7643 §3.3), whose attributes live under the
	// schema URN key of a resource map rather than at its top level.
	Extension bool
}

// Attribute returns the attribute called name (case-insensitive), or nil.
func (s *Schema) Attribute(name string) *Attribute {
	return findAttribute(s.Attributes, name)
}

// SubAttribute returns the sub-attribute called name (case-insensitive), or nil.
func (a *Attribute) SubAttribute(name string) *Attribute {
	return findAttribute(a.SubAttributes, name)
}

// IsComplex reports whether the attribute has sub-attributes.
func (a *Attribute) IsComplex() bool { return a.Type == TypeComplex }

func findAttribute(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}
