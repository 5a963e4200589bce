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
	"bytes"
	"os"
	"path/filepath"
	"syscall"
)

// devProcAttr stops kubescim dev (and so its control plane) if the test binary dies without
// cleaning up, e.g. on a test timeout.
func devProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT}
}

// replicaProcAttr kills a kubescim replica if the test binary dies without stopping it.
func replicaProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// processesMentioning lists the command lines of running processes whose arguments contain s.
func processesMentioning(s string) []string {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var found []string
	for _, path := range cmdlines {
		data, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(data, []byte(s)) {
			continue
		}
		found = append(found, string(bytes.ReplaceAll(data, []byte{0}, []byte{' '})))
	}
	return found
}
