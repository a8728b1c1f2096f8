// Written by korthweb (proving-ground/real-node/cert-manager.ts builds it): one
// program for cert-manager's three components, a STAND-IN for the upstream
// images quay.io/jetstack/cert-manager-{controller,webhook,cainjector}.
//
// Why our own main: the Go module proxy serves github.com/cert-manager/cert-manager
// (the library: every controller, the webhook server, the CA injector) but not
// the unpublished modules holding its cmd/ folders. This file and its siblings
// are copied into a copy of the downloaded module (so they may use its internal
// packages) and wire those upstream packages the way the upstream commands do,
// taking the command-line flags the upstream chart passes. One binary, three
// entrypoints (one image each, same layer): the shared code is compiled and
// linked once on a 2-core machine.
//
//	cert-manager controller|webhook|cainjector [flags]
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cert-manager/cert-manager/internal/cmd/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	versionutil "github.com/cert-manager/cert-manager/pkg/util"
	"github.com/spf13/cobra"
)

// The component's own arguments: parsed again after a --config file is read, so that flags win over it.
var commandArgs []string

func appVersion() string { return versionutil.AppVersion }

func main() {
	ctx, exit := util.SetupExitHandler(context.Background(), util.GracefulShutdown)
	defer exit() // may call os.Exit: deferred first, runs last

	logf.InitLogs()
	defer logf.FlushLogs()

	component := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if component == "cert-manager" && len(args) > 0 {
		component, args = args[0], args[1:]
	}
	var cmd *cobra.Command
	switch component {
	case "controller":
		cmd = controllerCommand()
	case "webhook":
		cmd = webhookCommand()
	case "cainjector":
		cmd = cainjectorCommand()
	default:
		fmt.Fprintf(os.Stderr, "cert-manager (korthweb stand-in): unknown component %q: run it as `cert-manager controller|webhook|cainjector [flags]`\n", component)
		util.SetExitCodeValue(2)
		return
	}
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	commandArgs = args
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(logf.NewContext(ctx, logf.Log, component)); err != nil {
		logf.Log.Error(err, "cert-manager "+component+" failed")
		util.SetExitCode(err)
	}
}
