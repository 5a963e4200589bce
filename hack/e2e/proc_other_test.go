//go:build !linux

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

import "syscall"

// devProcAttr has nothing to add outside Linux.
func devProcAttr() *syscall.SysProcAttr { return nil }

// replicaProcAttr has nothing to add outside Linux.
func replicaProcAttr() *syscall.SysProcAttr { return nil }

// processesMentioning cannot look without /proc; it finds nothing.
func processesMentioning(string) []string { return nil }
