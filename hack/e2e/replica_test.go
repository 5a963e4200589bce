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

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Lease settings of the fault test, shortened so that a failover takes seconds (production uses
// 15s/10s/2s). KUBESCIM_E2E_LEASE=15s/10s/2s measures the failover with other settings.
var testLeaseDuration, testRenewDeadline, testRetryPeriod = leaseSettings(4*time.Second, 3*time.Second, 500*time.Millisecond)

func leaseSettings(lease, renew, retry time.Duration) (time.Duration, time.Duration, time.Duration) {
	s := os.Getenv("KUBESCIM_E2E_LEASE")
	if s == "" {
		return lease, renew, retry
	}
	var d [3]time.Duration
	parts := strings.Split(s, "/")
	for i := range d {
		var err error
		if len(parts) != 3 {
			panic("KUBESCIM_E2E_LEASE must be LEASE/RENEW/RETRY, e.g. 15s/10s/2s")
		}
		if d[i], err = time.ParseDuration(parts[i]); err != nil {
			panic(fmt.Sprintf("KUBESCIM_E2E_LEASE: %v", err))
		}
	}
	return d[0], d[1], d[2]
}

const (
	testShutdownDelay = time.Second
	// testShutdownTimeout is shorter than the SCIM server's API timeout (10s), so that a request
	// hanging on a stopped etcd is still running at the shutdown deadline.
	testShutdownTimeout = 6 * time.Second
)

// buildKubescim builds the kubescim binary into dir.
func buildKubescim(t testing.TB, root, dir string) string {
	t.Helper()
	binary := filepath.Join(dir, "kubescim")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", binary, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building kubescim: %v\n%s", err, out)
	}
	return binary
}

// replica is one kubescim process, as one pod of the Deployment runs it.
type replica struct {
	name                         string
	cmd                          *exec.Cmd
	scimURL, probeURL, metricURL string
	logPath                      string
	exited                       chan struct{}
	err                          error
}

// startReplica runs binary with the fault test's flags plus extra.
func startReplica(t *testing.T, binary, name, kubeconfig string, extra ...string) *replica {
	t.Helper()
	dir := t.TempDir()
	if keep := os.Getenv("KUBESCIM_E2E_LOG_DIR"); keep != "" { // keep the logs past the test
		dir = keep
	}
	scim, probe, metrics := freeAddr(t), freeAddr(t), freeAddr(t)
	r := &replica{
		name: name, scimURL: "http://" + scim + "/scim/v2", probeURL: "http://" + probe, metricURL: "http://" + metrics + "/metrics",
		logPath: filepath.Join(dir, name+".log"), exited: make(chan struct{}),
	}
	args := append([]string{
		"--kubeconfig=" + kubeconfig,
		"--scim-bind-address=" + scim, "--health-probe-bind-address=" + probe, "--metrics-bind-address=" + metrics,
		"--leader-elect", "--leader-election-namespace=" + tokenNamespace,
		"--leader-elect-lease-duration=" + testLeaseDuration.String(),
		"--leader-elect-renew-deadline=" + testRenewDeadline.String(),
		"--leader-elect-retry-period=" + testRetryPeriod.String(),
		"--shutdown-delay=" + testShutdownDelay.String(), "--shutdown-timeout=" + testShutdownTimeout.String(),
		"--scim-token-secret=" + tokenNamespace + "/" + tokenSecret,
		"--scim-rate-limit=0",
	}, extra...)
	logFile, err := os.Create(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(binary, args...)
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	r.cmd.SysProcAttr = replicaProcAttr()
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = r.cmd.Wait()
		_ = logFile.Close()
		close(r.exited)
	}()
	t.Cleanup(func() {
		if r.running() {
			_ = r.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-r.exited:
			case <-time.After(30 * time.Second):
				_ = r.cmd.Process.Kill()
				<-r.exited
			}
		}
		if t.Failed() {
			t.Logf("log of %s:\n%s", r.name, r.logTail())
		}
	})
	return r
}

func (r *replica) running() bool {
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}

func (r *replica) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signalling %s: %v", r.name, err)
	}
}

// waitExit waits for the process to end and returns its exit error.
func (r *replica) waitExit(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-r.exited:
		return r.err
	case <-time.After(within):
		t.Fatalf("%s did not exit within %s", r.name, within)
		return nil
	}
}

// probe returns the status of /healthz or /readyz.
func (r *replica) probe(path string) int {
	resp, err := http.Get(r.probeURL + path)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func (r *replica) ready() bool { return r.running() && r.probe("/readyz") == http.StatusOK }

// leading reports whether the replica holds the controllers' Lease, from the
// leader_election_master_status metric client-go sets.
func (r *replica) leading() bool {
	resp, err := http.Get(r.metricURL)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, `leader_election_master_status{name="kubescim.scim.kubescim.io"}`) {
			return strings.HasSuffix(line, " 1")
		}
	}
	return false
}

func (r *replica) logTail() string {
	data, err := os.ReadFile(r.logPath)
	if err != nil {
		return err.Error()
	}
	// The errors first: the tail of a long log is the shutdown, the cause is often earlier.
	// Probe lines fill a tail and say nothing the test does not know.
	var errs []string
	var rest strings.Builder
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, `"level":"error"`) && !strings.Contains(line, "context canceled") {
			errs = append(errs, line)
		}
		if !strings.Contains(line, "controller-runtime.healthz") {
			rest.WriteString(line)
		}
	}
	if len(errs) > 10 {
		errs = errs[len(errs)-10:]
	}
	tail := rest.String()
	const max = 8000
	if len(tail) > max {
		tail = tail[len(tail)-max:]
	}
	return "errors (last 10):\n" + strings.Join(errs, "") + "tail:\n" + tail
}

// logContains reports whether the replica logged s.
func (r *replica) logContains(s string) bool {
	data, err := os.ReadFile(r.logPath)
	return err == nil && bytes.Contains(data, []byte(s))
}

// leader waits until exactly one of the replicas leads and returns it.
func leader(t *testing.T, within time.Duration, replicas ...*replica) *replica {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var leaders []*replica
		for _, r := range replicas {
			if r.running() && r.leading() {
				leaders = append(leaders, r)
			}
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d leaders among %s after %s, want 1", len(leaders), names(replicas), within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func names(replicas []*replica) string {
	var out []string
	for _, r := range replicas {
		out = append(out, r.name)
	}
	return fmt.Sprint(out)
}
