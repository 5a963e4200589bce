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

package patch

import (
	"net/http"
	"strings"

	"github.com/kubescim/kubescim/scimserver/filter"
	"github.com/kubescim/kubescim/scimserver/schema"
)

// MemberOpKind says how a MemberOp changes a group's members.
type MemberOpKind int

const (
	// AddMembers adds IDs (present ones stay).
	AddMembers MemberOpKind = iota
	// RemoveMembers removes IDs (absent ones are ignored).
	RemoveMembers
	// ReplaceMembers makes IDs the exact member set.
	ReplaceMembers
	// RemoveAllMembers empties the group.
	RemoveAllMembers
)

// String returns the kind's name, for logs and test failures.
func (k MemberOpKind) String() string {
	switch k {
	case AddMembers:
		return "AddMembers"
	case RemoveMembers:
		return "RemoveMembers"
	case ReplaceMembers:
		return "ReplaceMembers"
	case RemoveAllMembers:
		return "RemoveAllMembers"
	}
	return "MemberOpKind(?)"
}

// MemberOp is a change to a group's members, by member SCIM id (the "value"s).
type MemberOp struct {
	Kind MemberOpKind
	IDs  []string
}

// ExtractMemberOps removes every operation on the Group "members" attribute from ops and
// returns them as MemberOps, in request order, so that membership can be applied without
// loading the member list. Shapes: add/replace path "members" with an array or a single
// member object (or a bare id string); remove path `members[value eq "a" or value eq "b"]`;
// remove path "members" with a value array (Entra: only those); remove path "members"
// without value (all); path-less add/replace whose value holds "members" (split from the
// other attributes, which stay an ordinary operation). Member filters other than equality
// on "value", and paths below members ("members.value"), are invalidFilter / invalidPath.
func ExtractMemberOps(ops []Operation) (rest []Operation, members []MemberOp, err error) {
	for _, op := range ops {
		kind := strings.ToLower(op.Op)
		if strings.TrimSpace(op.Path) == "" {
			m, ok := op.Value.(map[string]any)
			key, found := memberKey(m)
			if !ok || !found || (kind != OpAdd && kind != OpReplace) {
				rest = append(rest, op)
				continue
			}
			mop, err := memberOpFromValue(kind, m[key])
			if err != nil {
				return nil, nil, err
			}
			members = appendOp(members, mop)
			if len(m) > 1 {
				others := make(map[string]any, len(m)-1)
				for k, v := range m {
					if k != key {
						others[k] = v
					}
				}
				rest = append(rest, Operation{Op: op.Op, Value: others})
			}
			continue
		}
		mop, isMembers, err := memberOpFromPath(kind, op.Path, op.Value)
		if err != nil {
			return nil, nil, err
		}
		if !isMembers {
			rest = append(rest, op)
			continue
		}
		members = appendOp(members, mop)
	}
	return rest, members, nil
}

// appendOp drops operations that change nothing (removing or adding no ids).
func appendOp(ops []MemberOp, op MemberOp) []MemberOp {
	if len(op.IDs) == 0 && (op.Kind == AddMembers || op.Kind == RemoveMembers) {
		return ops
	}
	return append(ops, op)
}

// memberKey finds the "members" key of a path-less value (any case, optionally qualified
// with the Group URN).
func memberKey(m map[string]any) (string, bool) {
	for k := range m {
		if strings.EqualFold(k, "members") || strings.EqualFold(k, schema.GroupURN+":members") {
			return k, true
		}
	}
	return "", false
}

func memberOpFromValue(kind string, value any) (MemberOp, error) {
	ids, err := memberIDs(value)
	if err != nil {
		return MemberOp{}, err
	}
	switch {
	case kind == OpAdd:
		return MemberOp{Kind: AddMembers, IDs: ids}, nil
	case len(ids) == 0:
		return MemberOp{Kind: RemoveAllMembers}, nil
	}
	return MemberOp{Kind: ReplaceMembers, IDs: ids}, nil
}

// memberOpFromPath handles an operation with a path; isMembers is false when the path does
// not name the members attribute.
func memberOpFromPath(kind, path string, value any) (op MemberOp, isMembers bool, err error) {
	attr, elem, sub, err := filter.ParseValuePath(schema.GroupResource, path)
	if err != nil || attr.Attr.Name != "members" {
		return MemberOp{}, false, nil // not members; Apply reports bad paths
	}
	if attr.Sub != nil || sub != "" {
		return MemberOp{}, true, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidPath,
			"member sub-attributes are immutable; add or remove whole members")
	}
	if elem == nil {
		if kind == OpRemove {
			if value == nil {
				return MemberOp{Kind: RemoveAllMembers}, true, nil
			}
			ids, err := memberIDs(value)
			return MemberOp{Kind: RemoveMembers, IDs: ids}, true, err
		}
		op, err := memberOpFromValue(kind, value)
		return op, true, err
	}
	if kind != OpRemove {
		return MemberOp{}, true, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidPath,
			"%s with a members filter is not supported; use add or replace on \"members\"", kind)
	}
	ids, ok := elem.EqualValues("value")
	if !ok {
		return MemberOp{}, true, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidFilter,
			"members filters must compare value with eq (optionally joined by or)")
	}
	return MemberOp{Kind: RemoveMembers, IDs: ids}, true, nil
}

// memberIDs extracts member ids from a members value: an array of member objects, one
// member object, or a bare id string. Objects may carry "$ref" (even null), "display",
// "type"; only "value" matters.
func memberIDs(value any) ([]string, error) {
	var ids []string
	for _, v := range asList(value) {
		var id any
		switch t := v.(type) {
		case map[string]any:
			id, _ = takeFoldPeek(t, "value")
		default:
			id = t
		}
		s, ok := id.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidValue, "each member needs a non-empty string \"value\"")
		}
		ids = append(ids, strings.TrimSpace(s))
	}
	if len(ids) > schema.MaxMembers {
		return nil, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidValue, "more than %d members in one operation", schema.MaxMembers)
	}
	return ids, nil
}
