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

package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
)

var errNotFound = controllers.ErrNotFound

const exitCodesHelp = `Exit codes:
  0  done (preview: applying the binding changes nothing)
  1  error (bad flags or input, API errors)
  2  the user or group was not found
  3  preview: applying the binding would grant or revoke access
  4  preview: kubescim would refuse the binding, so it would grant nothing`

// options are the flags every command shares.
type options struct {
	config           *genericclioptions.ConfigFlags
	output           string
	subjectAttribute string
	bindableRoles    string
	access           controllers.Options
}

func newRootCommand(out io.Writer) *cobra.Command {
	o := &options{config: genericclioptions.NewConfigFlags(true)}
	root := &cobra.Command{
		Use:   "kubectl-scim",
		Short: "Ask kubescim who has what access through SCIM groups, and preview bindings",
		Long: `kubectl scim answers from the cluster's current objects, with the kubescim controllers'
own evaluation, and never writes anything.

The --subject-*, --service-account*, --bindable-roles and --max-subjects-per-binding flags
must match the kubescim controllers' flags of the same name (the defaults are theirs).

` + exitCodesHelp,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl scim"},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(out)
	o.config.AddFlags(root.PersistentFlags())
	pf := root.PersistentFlags()
	pf.StringVarP(&o.output, "output", "o", "table", "Output format: table, json or yaml.")
	pf.StringVar(&o.subjectAttribute, "subject-attribute", "userName", "User attribute that names the RBAC subject: userName, email or externalId.")
	pf.StringVar(&o.access.SubjectPrefix, "subject-prefix", "", "Prefix of RBAC User subjects (the controllers' --subject-prefix).")
	pf.BoolVar(&o.access.ServiceAccounts, "service-accounts", false, "The controllers bind a per-user ServiceAccount next to the User subject.")
	pf.StringVar(&o.access.ServiceAccountNamespace, "service-account-namespace", controllers.DefaultServiceAccountNamespace, "Namespace of the per-user ServiceAccounts.")
	pf.StringVar(&o.bindableRoles, "bindable-roles", "ClusterRole/view,ClusterRole/edit,ClusterRole/admin", "Roles ScimGroupBindings may grant (the controllers' --bindable-roles).")
	pf.IntVar(&o.access.MaxSubjectsPerBinding, "max-subjects-per-binding", controllers.DefaultMaxSubjectsPerBinding, "Most subjects in one RoleBinding (the controllers' flag).")
	root.AddCommand(newAccessCommand(o), newMembersCommand(o), newPreviewCommand(o))
	return root
}

// complete checks the shared flags and returns a client for the cluster.
func (o *options) complete() (client.Reader, error) {
	switch o.output {
	case "table", "json", "yaml":
	default:
		return nil, fmt.Errorf("--output must be table, json or yaml, got %q", o.output)
	}
	o.access.SubjectAttribute = controllers.SubjectAttribute(o.subjectAttribute)
	roles, err := controllers.ParseRoleNames(o.bindableRoles)
	if err != nil {
		return nil, fmt.Errorf("--bindable-roles: %w", err)
	}
	o.access.BindableRoles = roles
	cfg, err := o.config.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(scimv1.AddToScheme(scheme))
	return client.New(cfg, client.Options{Scheme: scheme})
}

func newAccessCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "access USER",
		Short: "Every namespace and role a user has through kubescim, and the group and binding that give it",
		Long: `USER is a ScimUser's object name, userName or SCIM id. An inactive user has no access,
and the output says so.

` + exitCodesHelp,
		Example: "  kubectl scim access alice@example.com\n  kubectl scim access alice@example.com -o json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.complete()
			if err != nil {
				return err
			}
			a, err := controllers.AccessOf(cmd.Context(), c, args[0], o.access)
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), a, func(w io.Writer) error { return printAccess(w, a) })
		},
	}
}

func newMembersCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "members GROUP",
		Short: "The direct and nested members of a group, with their active state",
		Long: `GROUP is a ScimGroup's displayName (case-insensitive) or object name.

` + exitCodesHelp,
		Example: "  kubectl scim members platform-team",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.complete()
			if err != nil {
				return err
			}
			m, err := controllers.MembersOf(cmd.Context(), c, args[0], o.access)
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), m, func(w io.Writer) error { return printMembers(w, m) })
		},
	}
}

func newPreviewCommand(o *options) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "preview -f BINDING.yaml",
		Short: "What applying a ScimGroupBinding would grant and revoke, without applying it",
		Long: `preview compares what the ScimGroupBinding in the file would grant with what the binding of
that name grants now (its current RoleBindings and ClusterRoleBindings), computed from the
cluster's current objects. A binding kubescim would refuse grants nothing, so its preview
revokes everything the binding of that name grants now. The API server's escalation check on
kubescim's own identity is not part of the preview. Nothing is written. -f - reads stdin.

` + exitCodesHelp,
		Example: "  kubectl scim preview -f binding.yaml\n  kubectl scim preview -f binding.yaml -o yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := readBinding(cmd.InOrStdin(), file)
			if err != nil {
				return err
			}
			c, err := o.complete()
			if err != nil {
				return err
			}
			plan, err := controllers.Preview(cmd.Context(), c, b, o.access)
			if err != nil {
				return err
			}
			if err := o.print(cmd.OutOrStdout(), plan, func(w io.Writer) error { return printPlan(w, plan) }); err != nil {
				return err
			}
			return previewExit(plan)
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "File holding one ScimGroupBinding (- for stdin).")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// previewExit is the exit status of a preview: refused beats changes beats no change.
func previewExit(p controllers.Plan) error {
	switch {
	case p.Refused != nil:
		return exitCode(exitRefused)
	case p.Changed():
		return exitCode(exitChanges)
	}
	return nil
}

// readBinding decodes the one ScimGroupBinding in file, strictly: a typo in a field name is an
// error, not a binding that silently grants something else.
func readBinding(stdin io.Reader, file string) (*scimv1.ScimGroupBinding, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	var b scimv1.ScimGroupBinding
	if err := yaml.UnmarshalStrict(data, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if want := scimv1.GroupVersion.String(); b.APIVersion != want || b.Kind != "ScimGroupBinding" {
		return nil, fmt.Errorf("%s: want a ScimGroupBinding of %s, got kind %q of %q", file, want, b.Kind, b.APIVersion)
	}
	if b.Name == "" {
		return nil, errors.New(file + ": metadata.name is required: the preview compares with the binding of that name")
	}
	return &b, nil
}

// print writes v in the chosen format; table formats it with table.
func (o *options) print(w io.Writer, v any, table func(io.Writer) error) error {
	return printAs(w, o.output, v, table)
}
