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
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
	"github.com/kubescim/kubescim/controllers/authz"
	"github.com/kubescim/kubescim/controllers/fleet"
	"github.com/kubescim/kubescim/scimserver"
)

// leaseName names the Lease of the controllers' leader election.
const leaseName = "kubescim.scim.kubescim.io"

// inClusterNamespaceFile holds the pod's namespace, the default home of the Lease.
const inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// config is everything the command line sets.
type config struct {
	metricsAddr      string
	probeAddr        string
	componentList    string
	components       components
	leaderElect      bool
	election         controllers.LeaderElection
	tokenSecret      string
	subjectAttribute string
	bindableRoles    string
	devDir           string
	devMembers       int
	scim             scimserver.Options
	access           controllers.Options
	authz            authz.Options
	hubKubeconfig    string
	unreachable      string
	fleet            fleet.Options
}

// components are the parts of kubescim this process runs.
type components struct{ scim, controllers bool }

func parseComponents(s string) (components, error) {
	var c components
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "scim":
			c.scim = true
		case "controllers":
			c.controllers = true
		default:
			return components{}, fmt.Errorf("--components: unknown component %q (want scim, controllers or both, comma-separated)", name)
		}
	}
	return c, nil
}

func bindFlags(fs *flag.FlagSet, dev bool) *config {
	c := &config{}
	scimAddr, metricsAddr, probeAddr, authzAddr := ":8080", ":9090", ":8081", "0"
	shutdownDelay := 5 * time.Second
	if dev {
		// Dev mode listens on loopback only, needs no metrics or probe endpoints, and has no load
		// balancer to wait for on Ctrl-C.
		scimAddr, metricsAddr, probeAddr, shutdownDelay = "127.0.0.1:8080", "0", "0", 0
		// Dev mode puts the authorization webhook in front of its API server's RBAC.
		authzAddr = "127.0.0.1:9443"
		fs.StringVar(&c.devDir, "dir", ".dev", "Directory for the dev cluster's kubeconfig, token and logs.")
		fs.IntVar(&c.devMembers, "members", 0, "Also start this many member control planes, a fleet following the dev cluster as its hub (DIR/member-N/kubeconfig).")
	}
	fs.StringVar(&c.componentList, "components", "scim,controllers", "Parts of kubescim to run: scim (the SCIM server, on every replica), controllers (RBAC, leader-elected with --leader-elect), or both.")
	fs.StringVar(&c.metricsAddr, "metrics-bind-address", metricsAddr, "Address of the Prometheus metrics endpoint; 0 disables it.")
	fs.StringVar(&c.probeAddr, "health-probe-bind-address", probeAddr, "Address of the /healthz and /readyz endpoints; 0 disables them.")
	fs.DurationVar(&c.scim.ShutdownDelay, "shutdown-delay", shutdownDelay, "On SIGTERM, how long SCIM keeps serving with /readyz already failing, so load balancers stop routing here first.")
	fs.DurationVar(&c.scim.ShutdownTimeout, "shutdown-timeout", scimserver.DefaultShutdownTimeout, "On SIGTERM, how long SCIM requests may run (the delay included) before the ones left are answered 503; keep it under the pod's terminationGracePeriodSeconds.")

	fs.BoolVar(&c.leaderElect, "leader-elect", false, "Run the controllers only on the replica holding a Lease (the SCIM server runs on every replica).")
	fs.StringVar(&c.election.Namespace, "leader-election-namespace", "", "Namespace of the leader election Lease (default: the pod's namespace).")
	fs.DurationVar(&c.election.LeaseDuration, "leader-elect-lease-duration", controllers.DefaultLeaseDuration, "How long the Lease holds without renewal: a crashed leader's successor takes over within this plus the retry period.")
	fs.DurationVar(&c.election.RenewDeadline, "leader-elect-renew-deadline", controllers.DefaultRenewDeadline, "How long the leader retries renewing before it stops its controllers; shorter than the lease duration.")
	fs.DurationVar(&c.election.RetryPeriod, "leader-elect-retry-period", controllers.DefaultRetryPeriod, "Interval between attempts to acquire or renew the Lease.")

	fs.StringVar(&c.scim.BindAddress, "scim-bind-address", scimAddr, "Address the SCIM server listens on.")
	fs.StringVar(&c.tokenSecret, "scim-token-secret", "", "NAMESPACE/NAME of a Secret whose data keys are token names and values are SCIM bearer tokens; watched.")
	fs.StringVar(&c.scim.TokenFile, "scim-token-file", "", "File of SCIM bearer tokens, one 'name:token' per line (or one bare token); reloaded on change.")
	fs.StringVar(&c.scim.TLSCertFile, "scim-tls-cert-file", "", "TLS certificate for the SCIM server; reloaded on change. Empty serves plain HTTP.")
	fs.StringVar(&c.scim.TLSKeyFile, "scim-tls-key-file", "", "TLS private key for the SCIM server.")
	fs.Int64Var(&c.scim.MaxBodyBytes, "scim-max-body-bytes", 1<<20, "Largest SCIM request body accepted; larger requests get 413.")
	fs.Float64Var(&c.scim.RateLimit, "scim-rate-limit", 100, "SCIM requests per second allowed per token; 0 is unlimited.")
	fs.IntVar(&c.scim.RateBurst, "scim-rate-burst", 200, "Burst of SCIM requests allowed per token above the rate.")
	fs.IntVar(&c.scim.MaxPatchOperations, "scim-max-patch-operations", 1000, "Most operations in one SCIM PATCH request.")
	fs.IntVar(&c.scim.MaxBulkOperations, "scim-max-bulk-operations", 1000, "Most operations in one SCIM /Bulk request (never more than --scim-rate-burst while rate limited).")
	fs.IntVar(&c.scim.MaxResults, "scim-max-results", 1000, "Most resources in one SCIM list response.")
	fs.StringVar(&c.scim.ExternalURL, "scim-external-url", "", "Base URL clients reach the SCIM server at, for meta.location and $ref (default: from the request).")
	fs.BoolVar(&c.scim.TrustForwardedHeaders, "scim-trust-forwarded-headers", false, "Believe X-Forwarded-Proto/-Host (locations) and X-Forwarded-For (failed-login limit per client); only behind a proxy every request passes.")

	fs.StringVar(&c.subjectAttribute, "subject-attribute", "userName", "User attribute that names the RBAC subject: userName, email or externalId.")
	fs.StringVar(&c.access.SubjectPrefix, "subject-prefix", "", "Prefix for RBAC User subjects, to match the API server's --oidc-username-prefix (e.g. 'oidc:').")
	fs.BoolVar(&c.access.ServiceAccounts, "service-accounts", false, "Keep one ServiceAccount per active user and bind it next to the User subject.")
	fs.StringVar(&c.access.ServiceAccountNamespace, "service-account-namespace", "kubescim-users", "Namespace of the per-user ServiceAccounts.")
	fs.StringVar(&c.bindableRoles, "bindable-roles", "ClusterRole/view,ClusterRole/edit,ClusterRole/admin", "Roles ScimGroupBindings may grant (Kind/name, comma-separated; a bare name is a ClusterRole).")
	fs.StringVar(&c.authz.BindAddress, "authz-webhook-bind-address", authzAddr, "Address of the authorization webhook (SubjectAccessReview, TLS, controllers component only); 0 disables it.")
	fs.StringVar(&c.authz.TLSCertFile, "authz-webhook-tls-cert-file", "", "TLS certificate of the authorization webhook; reloaded on change.")
	fs.StringVar(&c.authz.TLSKeyFile, "authz-webhook-tls-key-file", "", "TLS private key of the authorization webhook.")
	fs.StringVar(&c.authz.ClientCAFile, "authz-webhook-client-ca", "", "CA certificates that sign the API server's client certificate for the authorization webhook.")
	fs.StringVar(&c.authz.TokenFile, "authz-webhook-token-file", "", "Bearer token the API server may present to the authorization webhook instead of a client certificate.")
	fs.IntVar(&c.access.MaxSubjectsPerBinding, "max-subjects-per-binding", 1000, "Most subjects in one RoleBinding; larger groups are sharded over several.")

	fs.StringVar(&c.hubKubeconfig, "hub-kubeconfig", "", "Kubeconfig of a fleet's hub cluster: run as a member, mirroring the hub's ScimUsers and ScimGroups (controllers component only). Empty: standalone.")
	fs.StringVar(&c.fleet.ClusterName, "cluster-name", "", "This member's name in the fleet (its ScimMember on the hub); required with --hub-kubeconfig.")
	fs.StringVar(&c.unreachable, "hub-unreachable-policy", string(scimv1alpha1.UnreachableRevoke), "While the hub is unreachable: Revoke (remove every grant after --hub-grace-period) or Keep (keep the last known access).")
	fs.DurationVar(&c.fleet.GracePeriod, "hub-grace-period", fleet.DefaultGracePeriod, "How long the hub may be unreachable before the Revoke policy removes every grant.")
	fs.DurationVar(&c.fleet.Heartbeat, "hub-heartbeat", fleet.DefaultHeartbeat, "How often a member reports to the hub.")
	return c
}

// complete validates the flags and fills the derived options.
func (c *config) complete() error {
	comps, err := parseComponents(c.componentList)
	if err != nil {
		return err
	}
	c.components = comps
	if c.tokenSecret != "" {
		ns, name, ok := strings.Cut(c.tokenSecret, "/")
		if !ok || ns == "" || name == "" {
			return fmt.Errorf("--scim-token-secret must be NAMESPACE/NAME, got %q", c.tokenSecret)
		}
		c.scim.TokenSecret = types.NamespacedName{Namespace: ns, Name: name}
	}
	switch controllers.SubjectAttribute(c.subjectAttribute) {
	case controllers.SubjectUserName, controllers.SubjectEmail, controllers.SubjectExternalID:
		c.access.SubjectAttribute = controllers.SubjectAttribute(c.subjectAttribute)
	default:
		return fmt.Errorf("--subject-attribute must be userName, email or externalId, got %q", c.subjectAttribute)
	}
	roles, err := controllers.ParseRoleNames(c.bindableRoles)
	if err != nil {
		return fmt.Errorf("--bindable-roles: %w", err)
	}
	c.access.BindableRoles = roles
	if comps.scim && c.scim.TokenFile == "" && c.scim.TokenSecret.Name == "" {
		return errors.New("no SCIM tokens configured: set --scim-token-secret or --scim-token-file")
	}
	if c.scim.ShutdownDelay < 0 || c.scim.ShutdownDelay >= c.scim.ShutdownTimeout {
		return fmt.Errorf("--shutdown-delay (%s) must be at least 0 and shorter than --shutdown-timeout (%s)", c.scim.ShutdownDelay, c.scim.ShutdownTimeout)
	}
	if c.authzWebhookEnabled() {
		if !comps.controllers {
			return errors.New("--authz-webhook-bind-address needs the controllers component")
		}
		if c.authz.TLSCertFile == "" || c.authz.TLSKeyFile == "" {
			return errors.New("--authz-webhook-bind-address needs --authz-webhook-tls-cert-file and --authz-webhook-tls-key-file")
		}
		if c.authz.ClientCAFile == "" && c.authz.TokenFile == "" {
			return errors.New("--authz-webhook-bind-address needs --authz-webhook-client-ca or --authz-webhook-token-file to authenticate the API server")
		}
	}
	if c.hubKubeconfig != "" {
		if comps.scim || !comps.controllers {
			return errors.New("--hub-kubeconfig runs a fleet member: --components must be controllers (the hub runs the SCIM server)")
		}
		if c.fleet.ClusterName == "" {
			return errors.New("--hub-kubeconfig needs --cluster-name")
		}
		hub, err := clientcmd.BuildConfigFromFlags("", c.hubKubeconfig)
		if err != nil {
			return fmt.Errorf("--hub-kubeconfig: %w", err)
		}
		c.fleet.Hub = hub
		c.fleet.Unreachable = scimv1alpha1.UnreachablePolicy(c.unreachable)
	}
	if comps.controllers && c.leaderElect {
		c.election.Name = leaseName
		if c.election.Namespace == "" {
			ns, err := os.ReadFile(inClusterNamespaceFile)
			if err != nil {
				return fmt.Errorf("--leader-elect needs --leader-election-namespace outside a pod: %w", err)
			}
			c.election.Namespace = strings.TrimSpace(string(ns))
		}
	}
	return nil
}

// authzWebhookEnabled reports whether --authz-webhook-bind-address turns the webhook on.
func (c *config) authzWebhookEnabled() bool {
	return c.authz.BindAddress != "" && c.authz.BindAddress != "0"
}
