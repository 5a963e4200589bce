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

// Package filter implements SCIM filters (RFC 7644 §3.4.2.2) and PATCH value-path filters
// (RFC 7644 §3.5.2) over resource maps, typed by the schemas of package schema. Parsing is
// done by github.com/scim2/filter-parser/v2; this package prepares the text for it (string
// literals, whitespace, an Entra ID grammar extension), compiles its syntax tree against the
// schema and evaluates it.
package filter
