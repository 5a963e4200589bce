// Package schema holds the SCIM 2.0 schemas served by kubescim (RFC 7643 §4, §8.7) and the
// operations that depend only on them: resolving attribute paths, normalising incoming
// resources, projecting responses (attributes= / excludedAttributes=) and the discovery
// documents. Resources are JSON maps as produced by encoding/json; core attributes live at
// the top level, extension attributes under their schema URN key.
package schema
