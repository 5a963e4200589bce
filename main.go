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
// ScimGroup objects, and the controllers that turn them into RBAC, in one process or apart
// (--components). `kubescim dev` runs the same operator on an embedded control plane for trying
// it out; `kubescim cleanup` deletes every grant kubescim made (the chart's uninstall hook);
// `kubescim join NAME` registers a member cluster on a fleet's hub.
package main

import (
	"flag"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(scimv1alpha1.AddToScheme(scheme))
}

func main() {
	args, dev := os.Args[1:], false
	if len(args) > 0 && args[0] == "cleanup" {
		cleanupMain(args[1:])
		return
	}
	if len(args) > 0 && args[0] == "join" {
		joinMain(args[1:])
		return
	}
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

	if limit, err := applyMemoryLimit(); err != nil {
		ctrl.Log.Error(err, "Ignoring the container memory limit")
	} else if limit > 0 {
		ctrl.Log.Info("Go soft memory limit set", "bytes", limit, "ratio", memoryLimitRatio)
	}

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

// cleanupMain runs `kubescim cleanup` (cleanup.go).
func cleanupMain(args []string) {
	fs := flag.CommandLine
	o := bindCleanupFlags(fs)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	_ = fs.Parse(args)
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	if err := runCleanup(ctrl.SetupSignalHandler(), o, ctrl.GetConfigOrDie()); err != nil {
		ctrl.Log.Error(err, "kubescim cleanup failed")
		os.Exit(1)
	}
}
