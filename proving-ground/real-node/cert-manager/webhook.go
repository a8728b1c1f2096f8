// The webhook: upstream's own flags and configuration file (pkg/webhook/options,
// public in the module) and its server (internal/webhook), as its command does.
package main

import (
	"fmt"
	"path/filepath"

	"github.com/cert-manager/cert-manager/internal/apis/config/webhook/validation"
	cmwebhook "github.com/cert-manager/cert-manager/internal/webhook"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util/configfile"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"
	webhookconfigfile "github.com/cert-manager/cert-manager/pkg/webhook/configfile"
	"github.com/cert-manager/cert-manager/pkg/webhook/options"
	"github.com/spf13/cobra"
)

func webhookCommand() *cobra.Command {
	flags := options.NewWebhookFlags()
	cfg, err := options.NewWebhookConfiguration()
	if err != nil {
		panic(fmt.Sprintf("webhook defaults: %v", err))
	}
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "cert-manager's admission webhook (validation and mutation of its resources)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if flags.Config != "" {
				// File first, then the flags again: a flag given on the command line wins.
				path, err := filepath.Abs(flags.Config)
				if err != nil {
					return fmt.Errorf("--config %s: %w", flags.Config, err)
				}
				loader, err := configfile.NewConfigurationFSLoader(nil, path)
				if err != nil {
					return fmt.Errorf("--config %s: %w", flags.Config, err)
				}
				fromFile := webhookconfigfile.New()
				if err := loader.Load(fromFile); err != nil {
					return fmt.Errorf("--config %s: %w", flags.Config, err)
				}
				fromFile.Config.DeepCopyInto(cfg)
				if err := cmd.ParseFlags(commandArgs); err != nil {
					return err
				}
			}
			if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(cfg.FeatureGates); err != nil {
				return fmt.Errorf("--feature-gates: %w", err)
			}
			if errs := validation.ValidateWebhookConfiguration(cfg, nil); len(errs) > 0 {
				return fmt.Errorf("invalid webhook configuration: %w", errs.ToAggregate())
			}
			if err := logf.ValidateAndApply(&cfg.Logging); err != nil {
				return err
			}
			log := logf.FromContext(cmd.Context(), "webhook")
			log.Info("starting cert-manager webhook (korthweb stand-in build of the upstream module)", "version", appVersion())
			srv, err := cmwebhook.NewCertManagerWebhookServer(log, *cfg)
			if err != nil {
				return err
			}
			return srv.Run(cmd.Context())
		},
	}
	flags.AddFlags(cmd.Flags())
	options.AddConfigFlags(cmd.Flags(), cfg)
	return cmd
}
