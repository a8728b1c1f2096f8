// The CA injector: upstream's configuration (defaults, file, validation from
// internal/apis/config/cainjector) and injectors (pkg/controller/cainjector) in
// a controller-runtime manager, as its command sets them up. It fills the
// caBundle of the webhook configurations from the webhook's CA Secret
// (annotation cert-manager.io/inject-ca-from-secret).
package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	config "github.com/cert-manager/cert-manager/internal/apis/config/cainjector"
	configscheme "github.com/cert-manager/cert-manager/internal/apis/config/cainjector/scheme"
	"github.com/cert-manager/cert-manager/internal/apis/config/cainjector/validation"
	configv1alpha1 "github.com/cert-manager/cert-manager/pkg/apis/config/cainjector/v1alpha1"
	cainjectorconfigfile "github.com/cert-manager/cert-manager/pkg/cainjector/configfile"
	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	"github.com/cert-manager/cert-manager/pkg/util/configfile"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	cliflag "k8s.io/component-base/cli/flag"
	apireg "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

func cainjectorDefaults() (*config.CAInjectorConfiguration, error) {
	scheme, _, err := configscheme.NewSchemeAndCodecs()
	if err != nil {
		return nil, err
	}
	versioned := &configv1alpha1.CAInjectorConfiguration{}
	scheme.Default(versioned)
	cfg := &config.CAInjectorConfiguration{}
	return cfg, scheme.Convert(versioned, cfg, nil)
}

func cainjectorCommand() *cobra.Command {
	cfg, err := cainjectorDefaults()
	if err != nil {
		panic(fmt.Sprintf("cainjector defaults: %v", err))
	}
	var configFile string
	cmd := &cobra.Command{
		Use:   "cainjector",
		Short: "cert-manager's CA injector (caBundle of webhook configurations, API services, CRDs)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configFile != "" {
				path, err := filepath.Abs(configFile)
				if err != nil {
					return fmt.Errorf("--config %s: %w", configFile, err)
				}
				loader, err := configfile.NewConfigurationFSLoader(nil, path)
				if err != nil {
					return fmt.Errorf("--config %s: %w", configFile, err)
				}
				fromFile := cainjectorconfigfile.New()
				if err := loader.Load(fromFile); err != nil {
					return fmt.Errorf("--config %s: %w", configFile, err)
				}
				fromFile.Config.DeepCopyInto(cfg)
				if err := cmd.ParseFlags(commandArgs); err != nil {
					return err
				}
			}
			if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(cfg.FeatureGates); err != nil {
				return fmt.Errorf("--feature-gates: %w", err)
			}
			if errs := validation.ValidateCAInjectorConfiguration(cfg, nil); len(errs) > 0 {
				return fmt.Errorf("invalid cainjector configuration: %w", errs.ToAggregate())
			}
			if err := logf.ValidateAndApply(&cfg.Logging); err != nil {
				return err
			}
			return runCainjector(cmd.Context(), cfg)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&configFile, "config", "", "a CAInjectorConfiguration file (flags given too win over it)")
	fs.StringVar(&cfg.KubeConfig, "kubeconfig", cfg.KubeConfig, "kubeconfig file (default: in-cluster configuration)")
	fs.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "watch only this namespace")
	fs.BoolVar(&cfg.LeaderElectionConfig.Enabled, "leader-elect", cfg.LeaderElectionConfig.Enabled, "take a Lease so that one replica works at a time")
	fs.StringVar(&cfg.LeaderElectionConfig.Namespace, "leader-election-namespace", cfg.LeaderElectionConfig.Namespace, "namespace of the leader-election Lease")
	fs.DurationVar(&cfg.LeaderElectionConfig.LeaseDuration, "leader-election-lease-duration", cfg.LeaderElectionConfig.LeaseDuration, "Lease duration")
	fs.DurationVar(&cfg.LeaderElectionConfig.RenewDeadline, "leader-election-renew-deadline", cfg.LeaderElectionConfig.RenewDeadline, "Lease renew deadline")
	fs.DurationVar(&cfg.LeaderElectionConfig.RetryPeriod, "leader-election-retry-period", cfg.LeaderElectionConfig.RetryPeriod, "Lease retry period")
	fs.StringVar(&cfg.MetricsListenAddress, "metrics-listen-address", cfg.MetricsListenAddress, "Prometheus metrics address ('0': off)")
	fs.Var(cliflag.NewMapStringBool(&cfg.FeatureGates), "feature-gates", "feature gates, key=value pairs")
	logf.AddFlags(&cfg.Logging, fs)
	return cmd
}

func runCainjector(ctx context.Context, cfg *config.CAInjectorConfiguration) error {
	log := logf.FromContext(ctx)
	log.Info("starting cert-manager cainjector (korthweb stand-in build of the upstream module)", "version", appVersion())
	restConfig := util.RestConfigWithUserAgent(ctrl.GetConfigOrDie(), "cainjector")
	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmscheme.AddToScheme(scheme))
	utilruntime.Must(apiext.AddToScheme(scheme))
	utilruntime.Must(apireg.AddToScheme(scheme))
	var namespaces map[string]cache.Config
	if cfg.Namespace != "" {
		namespaces = map[string]cache.Config{cfg.Namespace: {}}
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme: scheme,
		Cache:  cache.Options{ReaderFailOnMissingInformer: true, DefaultNamespaces: namespaces},
		// Secrets are read when needed, never cached (as upstream: a cluster may hold many large ones).
		Client:                        client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		LeaderElection:                cfg.LeaderElectionConfig.Enabled,
		LeaderElectionNamespace:       cfg.LeaderElectionConfig.Namespace,
		LeaderElectionID:              "cert-manager-cainjector-leader-election",
		LeaderElectionReleaseOnCancel: true,
		LeaderElectionLabels:          map[string]string{"app.kubernetes.io/managed-by": "cert-manager-cainjector"},
		LeaderElectionResourceLock:    resourcelock.LeasesResourceLock,
		LeaseDuration:                 &cfg.LeaderElectionConfig.LeaseDuration,
		RenewDeadline:                 &cfg.LeaderElectionConfig.RenewDeadline,
		RetryPeriod:                   &cfg.LeaderElectionConfig.RetryPeriod,
		Metrics:                       metricsserver.Options{BindAddress: cfg.MetricsListenAddress},
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if cfg.EnableDataSourceConfig.Certificates {
		// The Certificate CRD must be there before its informer starts (upstream waits up to 5 minutes too).
		direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
		if err != nil {
			return err
		}
		err = wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
			crd := apiext.CustomResourceDefinition{}
			if err := direct.Get(ctx, types.NamespacedName{Name: "certificates.cert-manager.io"}, &crd); err != nil {
				log.Info("waiting for the CRD certificates.cert-manager.io", "error", err.Error())
				return false, nil
			}
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("CRD certificates.cert-manager.io: %w", err)
		}
	}
	err = cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		Namespace:                    cfg.Namespace,
		IgnoreNamespaces:             cfg.IgnoreNamespaces,
		EnableCertificatesDataSource: cfg.EnableDataSourceConfig.Certificates,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   cfg.EnableInjectableConfig.MutatingWebhookConfigurations,
			cainjector.ValidatingWebhookConfigurationName: cfg.EnableInjectableConfig.ValidatingWebhookConfigurations,
			cainjector.APIServiceName:                     cfg.EnableInjectableConfig.APIServices,
			cainjector.CustomResourceDefinitionName:       cfg.EnableInjectableConfig.CustomResourceDefinitions,
		},
	})
	if err != nil {
		return fmt.Errorf("registering the injectors: %w", err)
	}
	return mgr.Start(ctx)
}
