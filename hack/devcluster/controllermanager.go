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

package devcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// stopGracePeriod is how long kube-controller-manager gets to exit after SIGTERM.
const stopGracePeriod = 10 * time.Second

type controllerManagerConfig struct {
	path         string
	kubeconfig   string
	logPath      string
	caData       []byte
	caPath       string
	saSigningKey string
	serviceCIDR  string
}

// controllerManager is a running kube-controller-manager process.
type controllerManager struct {
	cmd     *exec.Cmd
	log     *os.File
	logPath string
	// exited is closed when the process has exited; err then holds its exit error.
	exited chan struct{}
	err    error
}

// controllerManagerArgs runs every default controller against the admin kubeconfig, without
// serving anything (--secure-port=0) and without leader election (there is one instance).
func controllerManagerArgs(cfg controllerManagerConfig) []string {
	return []string{
		"--kubeconfig=" + cfg.kubeconfig,
		"--authentication-kubeconfig=" + cfg.kubeconfig,
		"--authorization-kubeconfig=" + cfg.kubeconfig,
		"--leader-elect=false",
		"--controllers=*",
		"--bind-address=127.0.0.1",
		"--secure-port=0",
		// Controllers share the admin identity: envtest has no per-controller ServiceAccounts
		// until the tokens controller has created them.
		"--use-service-account-credentials=false",
		// The same key envtest's kube-apiserver verifies with, so the tokens controller's
		// ServiceAccount tokens are accepted.
		"--service-account-private-key-file=" + cfg.saSigningKey,
		"--root-ca-file=" + cfg.caPath,
		"--service-cluster-ip-range=" + cfg.serviceCIDR,
	}
}

func startControllerManager(cfg controllerManagerConfig) (*controllerManager, error) {
	if err := os.WriteFile(cfg.caPath, cfg.caData, 0o600); err != nil {
		return nil, fmt.Errorf("writing cluster CA for kube-controller-manager: %w", err)
	}
	logFile, err := os.Create(cfg.logPath)
	if err != nil {
		return nil, fmt.Errorf("creating kube-controller-manager log: %w", err)
	}
	cmd := exec.Command(cfg.path, controllerManagerArgs(cfg)...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting kube-controller-manager: %w", err)
	}
	m := &controllerManager{cmd: cmd, log: logFile, logPath: cfg.logPath, exited: make(chan struct{})}
	go func() {
		m.err = cmd.Wait()
		close(m.exited)
	}()
	return m, nil
}

// exitError describes an unexpected exit, with the end of the log to say why.
func (m *controllerManager) exitError() error {
	return fmt.Errorf("kube-controller-manager exited early (%v); last log lines from %s:\n%s",
		m.err, m.logPath, tail(m.logPath, 15))
}

// stop sends SIGTERM and waits; after stopGracePeriod it kills the process.
func (m *controllerManager) stop() error {
	defer m.log.Close()
	select {
	case <-m.exited:
		return nil // already gone; Start reported it if it mattered
	default:
	}
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stopping kube-controller-manager: %w", err)
	}
	select {
	case <-m.exited:
		return nil
	case <-time.After(stopGracePeriod):
		_ = m.cmd.Process.Kill()
		<-m.exited
		return fmt.Errorf("kube-controller-manager did not stop within %s and was killed", stopGracePeriod)
	}
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
