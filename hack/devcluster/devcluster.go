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

// Package devcluster starts a "dev cluster" for `kubescim dev` and end-to-end tests: envtest's
// kube-apiserver and etcd plus, optionally, kube-controller-manager as its own process, so that
// the aggregated ClusterRoles (view, edit, admin) have rules, owner references are garbage
// collected and namespace deletion completes, as on a real cluster.
package devcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Options configures a dev cluster.
type Options struct {
	// Dir receives Dir/kubeconfig (admin access), Dir/kube-apiserver.log and
	// Dir/kube-controller-manager.log. It is created if missing.
	Dir string
	// CRDDirs hold CRD manifests (config/crd/bases) installed before Start returns.
	CRDDirs []string
	// ControllerManager runs kube-controller-manager beside the API server. True for
	// `kubescim dev` and end-to-end tests; false gives a bare envtest control plane.
	ControllerManager bool
	// BinaryDir holds kube-apiserver, etcd and kube-controller-manager. Default:
	// FindBinaries from the working directory and the running program's directory.
	BinaryDir string
	// ReadyTimeout bounds the wait for the controller manager to fill the aggregated roles.
	// Default 2 minutes.
	ReadyTimeout time.Duration
	// AuthzWebhook, when set, configures the API server to ask kubescim's authorization webhook
	// before RBAC; its certificates and configuration are written into Dir/authz-webhook.
	AuthzWebhook *AuthzWebhook
}

// Cluster is a running dev cluster.
type Cluster struct {
	// Config is an admin (system:masters) REST config for the API server.
	Config *rest.Config
	// KubeconfigPath is the admin kubeconfig written into Options.Dir.
	KubeconfigPath string
	// ControllerManagerLogPath is kube-controller-manager's log, empty without it.
	ControllerManagerLogPath string
	// AuthzWebhook are the files the authorization webhook serves with, nil without it.
	AuthzWebhook *AuthzWebhookFiles

	env      *envtest.Environment
	kcm      *controllerManager
	stateDir string
	apiLog   *os.File
}

// Start starts the control plane, installs the CRDs, writes Dir/kubeconfig and, with
// ControllerManager, starts kube-controller-manager and waits until it has filled the
// aggregated ClusterRoles. On error everything already started is stopped again.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("devcluster: Options.Dir is required")
	}
	binDir := opts.BinaryDir
	if binDir == "" {
		var err error
		if binDir, err = FindBinaries(searchDirs()...); err != nil {
			return nil, fmt.Errorf("devcluster: %w", err)
		}
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 2 * time.Minute
	}
	kcmPath := filepath.Join(binDir, "kube-controller-manager")
	if opts.ControllerManager {
		// Check before starting anything, so a missing binary costs nothing to report.
		if _, err := os.Stat(kcmPath); err != nil {
			return nil, fmt.Errorf("devcluster: kube-controller-manager not found in %s (run hack/setup-envtest.sh to build it): %w", binDir, err)
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating dev cluster directory: %w", err)
	}

	c := &Cluster{KubeconfigPath: filepath.Join(opts.Dir, "kubeconfig")}
	cfg, err := c.startControlPlane(opts, binDir)
	if err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	c.Config = cfg
	if err := c.start(ctx, opts, kcmPath); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

// startControlPlane starts etcd and kube-apiserver and installs the CRDs. Their certificates
// and data live in a directory of the cluster's own, not in ones envtest removes when a process
// stops, so that both can be stopped and started again (faults.go).
func (c *Cluster) startControlPlane(opts Options, binDir string) (*rest.Config, error) {
	stateDir, err := os.MkdirTemp(opts.Dir, "control-plane-")
	if err != nil {
		return nil, fmt.Errorf("creating control plane directory: %w", err)
	}
	c.stateDir = stateDir
	certDir, dataDir := filepath.Join(stateDir, "kube-apiserver"), filepath.Join(stateDir, "etcd")
	for _, dir := range []string{certDir, dataDir} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating control plane directory: %w", err)
		}
	}
	if c.apiLog, err = os.Create(filepath.Join(opts.Dir, "kube-apiserver.log")); err != nil {
		return nil, fmt.Errorf("creating kube-apiserver log: %w", err)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: binDir,
		CRDDirectoryPaths:     opts.CRDDirs,
		ErrorIfCRDPathMissing: len(opts.CRDDirs) > 0,
	}
	env.ControlPlane.APIServer = &envtest.APIServer{CertDir: certDir, Out: c.apiLog, Err: c.apiLog}
	// Without a bound, a stopping kube-apiserver waits a minute for clients' watches to end.
	env.ControlPlane.APIServer.Configure().Set("shutdown-watch-termination-grace-period", "2s")
	if opts.AuthzWebhook != nil {
		files, err := writeAuthzWebhook(filepath.Join(opts.Dir, "authz-webhook"), *opts.AuthzWebhook)
		if err != nil {
			return nil, err
		}
		c.AuthzWebhook = files
		// The two flags exclude each other; the configuration lists RBAC after the webhook.
		env.ControlPlane.APIServer.Configure().Disable("authorization-mode").Set("authorization-config", files.ConfigFile)
	}
	env.ControlPlane.Etcd = &envtest.Etcd{DataDir: dataDir}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd (log: %s): %w", c.apiLog.Name(), err)
	}
	c.env = env
	return cfg, nil
}

func (c *Cluster) start(ctx context.Context, opts Options, kcmPath string) error {
	if err := os.WriteFile(c.KubeconfigPath, c.env.KubeConfig, 0o600); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	if !opts.ControllerManager {
		return nil
	}
	c.ControllerManagerLogPath = filepath.Join(opts.Dir, "kube-controller-manager.log")
	kcm, err := startControllerManager(controllerManagerConfig{
		path:         kcmPath,
		kubeconfig:   c.KubeconfigPath,
		logPath:      c.ControllerManagerLogPath,
		caData:       c.Config.CAData,
		caPath:       filepath.Join(opts.Dir, "ca.crt"),
		saSigningKey: filepath.Join(c.env.ControlPlane.GetAPIServer().CertDir, "sa-signer.key"),
		serviceCIDR:  "10.0.0.0/24", // envtest's --service-cluster-ip-range
	})
	if err != nil {
		return err
	}
	c.kcm = kcm
	readyCtx, cancel := context.WithTimeout(ctx, opts.ReadyTimeout)
	defer cancel()
	return waitForAggregatedRoles(readyCtx, c.Config, kcm)
}

// searchDirs are where FindBinaries looks by default: the working directory and the directory of
// the running program.
func searchDirs() []string {
	var dirs []string
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(exe))
	}
	return dirs
}

// Stop stops kube-controller-manager (if running), then the API server and etcd.
func (c *Cluster) Stop() error {
	var errs []error
	if c.kcm != nil {
		errs = append(errs, c.kcm.stop())
		c.kcm = nil
	}
	if c.env != nil {
		if err := c.env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping kube-apiserver and etcd: %w", err))
		}
		c.env = nil
	}
	if c.apiLog != nil {
		errs = append(errs, c.apiLog.Close())
		c.apiLog = nil
	}
	if c.stateDir != "" {
		errs = append(errs, os.RemoveAll(c.stateDir))
		c.stateDir = ""
	}
	return errors.Join(errs...)
}
