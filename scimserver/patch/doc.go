// Package patch implements SCIM PATCH (RFC 7644 §3.5.2) on resource maps: decoding PatchOp
// requests, applying operations all-or-nothing with the request shapes Microsoft Entra ID
// and Okta send, and splitting Group membership operations off so that they can be applied
// without loading a group's member list.
package patch
