// Package filter implements SCIM filters (RFC 7644 §3.4.2.2) and PATCH value-path filters
// (RFC 7644 §3.5.2) over resource maps, typed by the schemas of package schema. Parsing is
// done by github.com/scim2/filter-parser/v2; this package prepares the text for it (string
// literals, whitespace, an Entra ID grammar extension), compiles its syntax tree against the
// schema and evaluates it.
package filter
