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

// Command kubescim runs the kubescim operator: the SCIM 2.0 server that writes ScimUser and
// ScimGroup objects, and the controllers that turn them into RBAC. `kubescim dev` runs the same
// operator on an embedded control plane for trying it out.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
	"github.com/kubescim/kubescim/hack/devcluster"
	"github.com/kubescim/kubescim/scimserver"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(scimv1alpha1.AddToScheme(scheme))
}

// config is everything the command line sets.
type config struct {
	metricsAddr             string
	probeAddr               string
	leaderElect             bool
	leaderElectionNamespace string
	tokenSecret             string
	subjectAttribute        string
	bindableRoles           string
	devDir                  string
	scim                    scimserver.Options
	access                  controllers.Options
}

func bindFlags(fs *flag.FlagSet, dev bool) *config {
	c := &config{}
	scimAddr, metricsAddr, probeAddr := ":8080", ":9090", ":8081"
	if dev {
		// Dev mode listens on loopback only and needs no metrics or probe endpoints.
		scimAddr, metricsAddr, probeAddr = "127.0.0.1:8080", "0", "0"
		fs.StringVar(&c.devDir, "dir", ".dev", "Directory for the dev cluster's kubeconfig, token and logs.")
	}
	fs.StringVar(&c.metricsAddr, "metrics-bind-address", metricsAddr, "Address of the Prometheus metrics endpoint; 0 disables it.")
	fs.StringVar(&c.probeAddr, "health-probe-bind-address", probeAddr, "Address of the /healthz and /readyz endpoints; 0 disables them.")
	fs.BoolVar(&c.leaderElect, "leader-elect", false, "Elect one active controller among replicas (the SCIM server runs on every replica).")
	fs.StringVar(&c.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease (default: the pod's namespace).")

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
	fs.IntVar(&c.access.MaxSubjectsPerBinding, "max-subjects-per-binding", 1000, "Most subjects in one RoleBinding; larger groups are sharded over several.")
	return c
}

// complete validates the flags and fills the derived options.
func (c *config) complete() error {
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
	if c.scim.TokenFile == "" && c.scim.TokenSecret.Name == "" {
		return errors.New("no SCIM tokens configured: set --scim-token-secret or --scim-token-file")
	}
	return nil
}

func main() {
	args, dev := os.Args[1:], false
	if len(args) > 0 && args[0] == "dev" {
		args, dev = args[1:], true
	}
	fs := flag.CommandLine // holds controller-runtime's --kubeconfig
	c := bindFlags(fs, dev)
	// Dev mode logs for a person at a terminal; the operator logs JSON for a log pipeline.
	zapOpts := zap.Options{Development: dev}
	zapOpts.BindFlags(fs)
	_ = fs.Parse(args)
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	ctx := ctrl.SetupSignalHandler()
	var err error
	if dev {
		err = runDev(ctx, c)
	} else if err = c.complete(); err == nil {
		err = run(ctx, c, ctrl.GetConfigOrDie())
	}
	if err != nil {
		ctrl.Log.Error(err, "kubescim stopped")
		os.Exit(1)
	}
}

// run starts the manager with the SCIM server and the controllers until ctx is done.
func run(ctx context.Context, c *config, restConfig *rest.Config) error {
	log := ctrl.Log.WithName("setup")
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         cache.Options{ByObject: controllers.CacheByObject()},
		Metrics:                       metricsserver.Options{BindAddress: c.metricsAddr},
		HealthProbeBindAddress:        c.probeAddr,
		LeaderElection:                c.leaderElect,
		LeaderElectionID:              "kubescim.scim.kubescim.io",
		LeaderElectionNamespace:       c.leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	if err := scimv1alpha1.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("registering indexes: %w", err)
	}
	if err := controllers.SetupWithManager(mgr, c.access); err != nil {
		return fmt.Errorf("setting up controllers: %w", err)
	}
	scim, err := scimserver.New(mgr, c.scim)
	if err != nil {
		return fmt.Errorf("creating SCIM server: %w", err)
	}
	if err := mgr.Add(scim); err != nil {
		return fmt.Errorf("adding SCIM server: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	// Ready once the SCIM server listens, which it does only after its tokens are loaded and the
	// cache has synced, so a Service never sends an IdP to a replica that would answer 401/404.
	scimServing := func(*http.Request) error {
		if scim.Addr() == "" {
			return errors.New("SCIM server not serving yet")
		}
		return nil
	}
	if err := mgr.AddReadyzCheck("scim", scimServing); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}
	log.Info("Starting kubescim", "scimAddress", c.scim.BindAddress)
	return mgr.Start(ctx)
}

// runDev starts an embedded control plane, installs the CRDs and samples, writes a kubeconfig
// and a SCIM token into the dev directory, and runs the operator against it: the same code path
// as in a cluster, with dev mode supplying only the control plane.
func runDev(ctx context.Context, c *config) error {
	if err := os.MkdirAll(c.devDir, 0o700); err != nil {
		return err
	}
	cluster, err := devcluster.Start(ctx, devcluster.Options{
		Dir:               c.devDir,
		CRDDirs:           []string{filepath.Join("config", "crd", "bases")},
		ControllerManager: true,
	})
	if err != nil {
		return fmt.Errorf("starting dev cluster: %w", err)
	}
	defer func() { _ = cluster.Stop() }()
	if err := cluster.ApplyDir(ctx, filepath.Join("config", "samples")); err != nil {
		return fmt.Errorf("applying samples: %w", err)
	}
	if c.access.ServiceAccounts {
		// In a cluster the chart creates this namespace; here dev mode stands in for the chart.
		if err := createNamespace(ctx, cluster.Config, c.access.ServiceAccountNamespace); err != nil {
			return err
		}
	}
	tokenFile := filepath.Join(c.devDir, "token")
	if err := writeDevToken(tokenFile); err != nil {
		return err
	}
	c.scim.TokenFile = tokenFile
	if err := c.complete(); err != nil {
		return err
	}
	base := "http://" + c.scim.BindAddress + "/scim/v2"
	fmt.Printf(`kubescim dev is running; Ctrl-C stops it.
  SCIM base URL: %[1]s
  SCIM token:    %[2]s
  Try:
    curl -s -H "Authorization: Bearer $(cat %[2]s)" %[1]s/Users
    kubectl --kubeconfig %[3]s get scimusers,scimgroups,scimgroupbindings
    kubectl --kubeconfig %[3]s auth can-i create deployments -n team-a --as alice@example.com
`, base, tokenFile, cluster.KubeconfigPath)
	return run(ctx, c, cluster.Config)
}

// createNamespace creates the namespace unless it exists.
func createNamespace(ctx context.Context, cfg *rest.Config, name string) error {
	cl, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := cl.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// writeDevToken writes a fresh random bearer token, readable by the owner only.
func writeDevToken(path string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600)
}
