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

// def fills the RFC 7643 §2.2 defaults (readWrite, returned default, uniqueness none) into a
// and into its sub-attributes, so definitions below only spell out what differs.
func def(a Attribute) *Attribute {
	if a.Type == "" {
		a.Type = TypeString
	}
	if a.Mutability == "" {
		a.Mutability = MutabilityReadWrite
	}
	if a.Returned == "" {
		a.Returned = ReturnedDefault
	}
	if a.Uniqueness == "" {
		a.Uniqueness = UniquenessNone
	}
	return &a
}

// readOnly returns a with mutability readOnly, also on all sub-attributes.
func readOnly(a *Attribute) *Attribute {
	a.Mutability = MutabilityReadOnly
	for _, s := range a.SubAttributes {
		readOnly(s)
	}
	return a
}

// commonAttributes returns fresh id, externalId and meta definitions (RFC 7643 §3.1).
func commonAttributes() []*Attribute {
	return []*Attribute{
		def(Attribute{Name: "id", CaseExact: true, Mutability: MutabilityReadOnly, Returned: ReturnedAlways,
			Uniqueness: UniquenessServer, Description: "Unique identifier for the SCIM resource as defined by the service provider.", common: true}),
		def(Attribute{Name: "externalId", CaseExact: true,
			Description: "Identifier for the resource as defined by the provisioning client.", common: true}),
		readOnly(def(Attribute{Name: "meta", Type: TypeComplex, common: true,
			Description: "Resource metadata.",
			SubAttributes: []*Attribute{
				def(Attribute{Name: "resourceType", CaseExact: true, Description: "The name of the resource type of the resource."}),
				def(Attribute{Name: "created", Type: TypeDateTime, Description: "The date and time the resource was added to the service provider."}),
				def(Attribute{Name: "lastModified", Type: TypeDateTime, Description: "The most recent date and time the resource was modified."}),
				def(Attribute{Name: "location", Type: TypeReference, CaseExact: true, ReferenceTypes: []string{"uri"}, Description: "The URI of the resource being returned."}),
				def(Attribute{Name: "version", CaseExact: true, Description: "The version (ETag) of the resource being returned."}),
			}})),
	}
}

// multiValuedComplex builds the usual value/display/type/primary shape (RFC 7643 §2.4).
func multiValuedComplex(name, description string, value *Attribute, types []string) *Attribute {
	return def(Attribute{Name: name, Type: TypeComplex, MultiValued: true, Description: description,
		SubAttributes: []*Attribute{
			value,
			def(Attribute{Name: "display", Description: "A human-readable name, primarily used for display purposes."}),
			def(Attribute{Name: "type", CanonicalValues: types, Description: "A label indicating the attribute's function."}),
			def(Attribute{Name: "primary", Type: TypeBoolean, Description: "Indicates the primary or preferred attribute value."}),
		}})
}

// User is the core User schema (RFC 7643 §4.1, §8.7.1), including the common attributes.
var User = &Schema{
	ID:          UserURN,
	Name:        "User",
	Description: "User Account",
	Attributes: append(commonAttributes(),
		def(Attribute{Name: "userName", Required: true, Uniqueness: UniquenessServer,
			Description: "Unique identifier for the User, typically used to authenticate with the service provider."}),
		def(Attribute{Name: "name", Type: TypeComplex, Description: "The components of the user's real name.",
			SubAttributes: []*Attribute{
				def(Attribute{Name: "formatted", Description: "The full name, formatted for display."}),
				def(Attribute{Name: "familyName", Description: "The family name of the User."}),
				def(Attribute{Name: "givenName", Description: "The given name of the User."}),
				def(Attribute{Name: "middleName", Description: "The middle name(s) of the User."}),
				def(Attribute{Name: "honorificPrefix", Description: "The honorific prefix(es) of the User."}),
				def(Attribute{Name: "honorificSuffix", Description: "The honorific suffix(es) of the User."}),
			}}),
		def(Attribute{Name: "displayName", Description: "The name of the User, suitable for display to end-users."}),
		def(Attribute{Name: "nickName", Description: "The casual way to address the user."}),
		def(Attribute{Name: "profileUrl", Type: TypeReference, ReferenceTypes: []string{"external"}, Description: "A fully qualified URL pointing to the User's online profile."}),
		def(Attribute{Name: "title", Description: "The user's title, such as \"Vice President\"."}),
		def(Attribute{Name: "userType", Description: "Used to identify the relationship between the organization and the user."}),
		def(Attribute{Name: "preferredLanguage", Description: "The User's preferred written or spoken language."}),
		def(Attribute{Name: "locale", Description: "The User's default location for localizing items."}),
		def(Attribute{Name: "timezone", Description: "The User's time zone in the 'Olson' time zone database format."}),
		def(Attribute{Name: "active", Type: TypeBoolean, Description: "The User's administrative status."}),
		def(Attribute{Name: "password", CaseExact: true, Mutability: MutabilityWriteOnly, Returned: ReturnedNever,
			Description: "The User's cleartext password; never stored by kubescim."}),
		multiValuedComplex("emails", "Email addresses for the user.",
			def(Attribute{Name: "value", Description: "Email address for the user."}),
			[]string{"work", "home", "other"}),
		multiValuedComplex("phoneNumbers", "Phone numbers for the User.",
			def(Attribute{Name: "value", Description: "Phone number of the User."}),
			[]string{"work", "home", "mobile", "fax", "pager", "other"}),
		multiValuedComplex("ims", "Instant messaging addresses for the User.",
			def(Attribute{Name: "value", Description: "Instant messaging address for the User."}),
			[]string{"aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"}),
		multiValuedComplex("photos", "URLs of photos of the User.",
			def(Attribute{Name: "value", Type: TypeReference, CaseExact: true, ReferenceTypes: []string{"external"}, Description: "URL of a photo of the User."}),
			[]string{"photo", "thumbnail"}),
		def(Attribute{Name: "addresses", Type: TypeComplex, MultiValued: true, Description: "A physical mailing address for this User.",
			SubAttributes: []*Attribute{
				def(Attribute{Name: "formatted", Description: "The full mailing address, formatted for display."}),
				def(Attribute{Name: "streetAddress", Description: "The full street address component."}),
				def(Attribute{Name: "locality", Description: "The city or locality component."}),
				def(Attribute{Name: "region", Description: "The state or region component."}),
				def(Attribute{Name: "postalCode", Description: "The zip code or postal code component."}),
				def(Attribute{Name: "country", Description: "The country name component."}),
				def(Attribute{Name: "type", CanonicalValues: []string{"work", "home", "other"}, Description: "A label indicating the attribute's function."}),
				def(Attribute{Name: "primary", Type: TypeBoolean, Description: "Indicates the primary or preferred address."}),
			}}),
		readOnly(def(Attribute{Name: "groups", Type: TypeComplex, MultiValued: true,
			Description: "A list of groups to which the user belongs, either directly or indirectly.",
			SubAttributes: []*Attribute{
				def(Attribute{Name: "value", Description: "The identifier of the User's group."}),
				def(Attribute{Name: "$ref", Type: TypeReference, ReferenceTypes: []string{"User", "Group"}, Description: "The URI of the corresponding 'Group' resource."}),
				def(Attribute{Name: "display", Description: "A human-readable name, primarily used for display purposes."}),
				def(Attribute{Name: "type", CanonicalValues: []string{"direct", "indirect"}, Description: "A label indicating the attribute's function."}),
			}})),
		multiValuedComplex("entitlements", "A list of entitlements for the User.",
			def(Attribute{Name: "value", Description: "The value of an entitlement."}), nil),
		multiValuedComplex("roles", "A list of roles for the User.",
			def(Attribute{Name: "value", Description: "The value of a role."}), nil),
		multiValuedComplex("x509Certificates", "A list of certificates issued to the User.",
			def(Attribute{Name: "value", Type: TypeBinary, Description: "The value of an X.509 certificate."}), nil),
	),
}

// EnterpriseUser is the enterprise User extension (RFC 7643 §4.3, §8.7.1).
var EnterpriseUser = &Schema{
	ID:          EnterpriseUserURN,
	Name:        "EnterpriseUser",
	Description: "Enterprise User",
	Extension:   true,
	Attributes: []*Attribute{
		def(Attribute{Name: "employeeNumber", Description: "Numeric or alphanumeric identifier assigned to a person."}),
		def(Attribute{Name: "costCenter", Description: "Identifies the name of a cost center."}),
		def(Attribute{Name: "organization", Description: "Identifies the name of an organization."}),
		def(Attribute{Name: "division", Description: "Identifies the name of a division."}),
		def(Attribute{Name: "department", Description: "Identifies the name of a department."}),
		def(Attribute{Name: "manager", Type: TypeComplex, Description: "The User's manager.",
			SubAttributes: []*Attribute{
				def(Attribute{Name: "value", Description: "The id of the SCIM resource representing the User's manager."}),
				def(Attribute{Name: "$ref", Type: TypeReference, ReferenceTypes: []string{"User"}, Description: "The URI of the SCIM resource representing the User's manager."}),
				def(Attribute{Name: "displayName", Mutability: MutabilityReadOnly, Description: "The displayName of the User's manager."}),
			}}),
	},
}

// Group is the core Group schema (RFC 7643 §4.2, §8.7.1), including the common attributes.
var Group = &Schema{
	ID:          GroupURN,
	Name:        "Group",
	Description: "Group",
	Attributes: append(commonAttributes(),
		def(Attribute{Name: "displayName", Required: true, Description: "A human-readable name for the Group."}),
		def(Attribute{Name: "members", Type: TypeComplex, MultiValued: true, Description: "A list of members of the Group.",
			SubAttributes: []*Attribute{
				def(Attribute{Name: "value", Mutability: MutabilityImmutable, Description: "Identifier of the member of this Group."}),
				def(Attribute{Name: "$ref", Type: TypeReference, Mutability: MutabilityImmutable, ReferenceTypes: []string{"User", "Group"},
					Description: "The URI corresponding to a SCIM resource that is a member of this Group."}),
				def(Attribute{Name: "display", Mutability: MutabilityReadOnly, Description: "A human-readable name of the member."}),
				def(Attribute{Name: "type", Mutability: MutabilityImmutable, CanonicalValues: []string{"User", "Group"},
					Description: "A label indicating the type of resource, e.g. 'User' or 'Group'."}),
			}}),
	),
}
