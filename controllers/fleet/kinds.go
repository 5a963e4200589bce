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
package fleet

import (
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
)

// kind is one mirrored resource type.
type kind struct {
	name    string
	newObj  func() client.Object
	newList func() client.ObjectList
	items   func(client.ObjectList) []client.Object
	// sameSpec reports whether two objects' specs agree; copySpec copies src's spec into dst.
	sameSpec func(a, b client.Object) bool
	copySpec func(dst, src client.Object)
	// selects, when set, tells whether this member mirrors a hub object, given the labels of the
	// member's ScimMember on the hub; nil mirrors every object.
	selects func(hubObj client.Object, member labels.Set) bool
	// adopts: a member object of the same name that is no copy becomes the copy (identities:
	// the hub is their source of truth). Otherwise it is left alone (bindings: a member's own
	// binding stays its admins').
	adopts bool
}

var userKind = kind{
	name:    "ScimUser",
	newObj:  func() client.Object { return &scimv1.ScimUser{} },
	newList: func() client.ObjectList { return &scimv1.ScimUserList{} },
	items:   func(l client.ObjectList) []client.Object { return pointers(l.(*scimv1.ScimUserList).Items) },
	// The member's controllers cache slim users (controllers.SlimUser): the fields access
	// depends on. Comparing those catches every local edit that could change access.
	sameSpec: func(a, b client.Object) bool {
		return equality.Semantic.DeepEqual(slim(a), slim(b))
	},
	copySpec: func(dst, src client.Object) {
		dst.(*scimv1.ScimUser).Spec = *src.(*scimv1.ScimUser).Spec.DeepCopy()
	},
	adopts: true,
}

func slim(u client.Object) scimv1.ScimUserSpec {
	s, _ := controllers.SlimUser(u.DeepCopyObject())
	return s.(*scimv1.ScimUser).Spec
}

var groupKind = kind{
	name:    "ScimGroup",
	newObj:  func() client.Object { return &scimv1.ScimGroup{} },
	newList: func() client.ObjectList { return &scimv1.ScimGroupList{} },
	items:   func(l client.ObjectList) []client.Object { return pointers(l.(*scimv1.ScimGroupList).Items) },
	sameSpec: func(a, b client.Object) bool {
		return equality.Semantic.DeepEqual(a.(*scimv1.ScimGroup).Spec, b.(*scimv1.ScimGroup).Spec)
	},
	copySpec: func(dst, src client.Object) {
		dst.(*scimv1.ScimGroup).Spec = *src.(*scimv1.ScimGroup).Spec.DeepCopy()
	},
	adopts: true,
}

// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimgroupbindings,verbs=get;list;watch;create;update;patch;delete;deletecollection

// bindingKind mirrors the hub's fleet bindings (spec.memberSelector) that select this member,
// as local bindings without the selector: the member's controllers apply them like its own.
var bindingKind = kind{
	name:    "ScimGroupBinding",
	newObj:  func() client.Object { return &scimv1.ScimGroupBinding{} },
	newList: func() client.ObjectList { return &scimv1.ScimGroupBindingList{} },
	items:   func(l client.ObjectList) []client.Object { return pointers(l.(*scimv1.ScimGroupBindingList).Items) },
	sameSpec: func(a, b client.Object) bool {
		return equality.Semantic.DeepEqual(localSpec(a), localSpec(b))
	},
	copySpec: func(dst, src client.Object) {
		dst.(*scimv1.ScimGroupBinding).Spec = localSpec(src)
	},
	selects: func(hubObj client.Object, member labels.Set) bool {
		sel := hubObj.(*scimv1.ScimGroupBinding).Spec.MemberSelector
		if sel == nil {
			return false // the hub's own binding
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		return err == nil && s.Matches(member) // an invalid selector selects no member
	},
}

// localSpec is a binding's spec as a member applies it: without the member selector.
func localSpec(b client.Object) scimv1.ScimGroupBindingSpec {
	spec := *b.(*scimv1.ScimGroupBinding).Spec.DeepCopy()
	spec.MemberSelector = nil
	return spec
}

var kinds = []kind{userKind, groupKind, bindingKind}

// pointers returns a list's items as objects, pointing into the list.
func pointers[T any, PT interface {
	*T
	client.Object
}](items []T) []client.Object {
	out := make([]client.Object, len(items))
	for i := range items {
		out[i] = PT(&items[i])
	}
	return out
}
