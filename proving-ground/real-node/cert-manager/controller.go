// The controller: upstream's controller loops (pkg/controller/...) run the way
// its command runs them: one context factory, leader election on a Lease,
// metrics on :9402, liveness on :9403/livez. Its configuration comes from the
// flags the upstream chart passes, with upstream's defaults written down below
// (read from internal/apis/config/controller/v1alpha1/defaults.go at the pinned
// version): that package cannot be compiled here, because it imports every
// issuer, and the Venafi issuer's client (github.com/Venafi/vcert/v5 v5.13.7) is
// not served by the Go module proxy. So this build carries the issuers korthweb
// uses — SelfSigned and CA — and not ACME, Vault or Venafi: an Issuer of those
// kinds never becomes Ready here, with the controller's own "not registered" error.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	certificatesmetrics "github.com/cert-manager/cert-manager/pkg/controller/certificates/metrics"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"
	"github.com/cert-manager/cert-manager/pkg/healthz"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/server"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	logsapi "k8s.io/component-base/logs/api/v1"

	// The issuer types this build carries (each registers itself).
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// The controllers this build carries: upstream's default set less the ACME,
// Vault, Venafi and ingress-shim loops (see the file's opening comment).
var builtControllers = []string{
	issuers.ControllerName,
	clusterissuers.ControllerName,
	certificatesmetrics.ControllerName,
	approver.ControllerName,
	crca.CRControllerName,
	crselfsigned.CRControllerName,
	trigger.ControllerName,
	issuing.ControllerName,
	keymanager.ControllerName,
	requestmanager.ControllerName,
	readiness.ControllerName,
	revisionmanager.ControllerName,
}

type controllerOptions struct {
	context             controller.ContextOptions
	controllers         []string
	workers             int
	metricsAddress      string
	healthzAddress      string
	leaderElect         bool
	leaderNamespace     string
	leaseDuration       time.Duration
	renewDeadline       time.Duration
	retryPeriod         time.Duration
	leaderHealthTimeout time.Duration
	featureGates        string
	config              string
	logging             *logsapi.LoggingConfiguration
}

// Upstream's defaults at v1.21 (see the opening comment).
func defaultControllerOptions() *controllerOptions {
	o := &controllerOptions{
		controllers:         []string{"*"},
		workers:             5,
		metricsAddress:      "0.0.0.0:9402",
		healthzAddress:      "0.0.0.0:9403",
		leaderElect:         true,
		leaderNamespace:     "kube-system",
		leaseDuration:       60 * time.Second,
		renewDeadline:       40 * time.Second,
		retryPeriod:         15 * time.Second,
		leaderHealthTimeout: 20 * time.Second,
		logging:             logsapi.NewLoggingConfiguration(),
	}
	o.context.KubernetesAPIQPS = 20
	o.context.KubernetesAPIBurst = 50
	o.context.ClusterResourceNamespace = "kube-system"
	o.context.ClusterIssuerAmbientCredentials = true
	o.context.DefaultIssuerKind = "Issuer"
	o.context.DefaultIssuerGroup = "cert-manager.io"
	o.context.DefaultAutoCertificateAnnotations = []string{"kubernetes.io/tls-acme"}
	o.context.CopiedAnnotationPrefixes = []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"}
	o.context.CertificateRequestMinimumBackoffDuration = time.Hour
	o.context.CertificateRequestMaximumBackoffDuration = 32 * time.Hour
	o.context.MaxConcurrentChallenges = 60
	o.context.DNS01CheckRetryPeriod = 10 * time.Second
	o.context.DNS01CheckAuthoritative = true
	o.context.HTTP01SolverResourceRequestCPU = resource.MustParse("10m")
	o.context.HTTP01SolverResourceRequestMemory = resource.MustParse("64Mi")
	o.context.HTTP01SolverResourceLimitsCPU = resource.MustParse("100m")
	o.context.HTTP01SolverResourceLimitsMemory = resource.MustParse("64Mi")
	o.context.ACMEHTTP01SolverRunAsNonRoot = true
	return o
}

func controllerCommand() *cobra.Command {
	o := defaultControllerOptions()
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "cert-manager's controller: issuers, certificates, certificate requests (SelfSigned and CA issuers in this build)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.config != "" {
				return fmt.Errorf("--config %s: this stand-in build of the controller takes flags only (the configuration-file loader needs upstream code that cannot be built here; see the program's source)", o.config)
			}
			if o.featureGates != "" {
				if err := utilfeature.DefaultMutableFeatureGate.Set(o.featureGates); err != nil {
					return fmt.Errorf("--feature-gates: %w", err)
				}
			}
			if err := logf.ValidateAndApply(o.logging); err != nil {
				return err
			}
			enabled, err := enabledControllers(o.controllers)
			if err != nil {
				return err
			}
			return runController(cmd.Context(), o, enabled)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.config, "config", "", "not supported by this stand-in build (refused with an error)")
	fs.StringVar(&o.context.APIServerHost, "master", "", "API server address (default: in-cluster configuration)")
	fs.StringVar(&o.context.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster configuration)")
	fs.Float32Var(&o.context.KubernetesAPIQPS, "kube-api-qps", o.context.KubernetesAPIQPS, "queries per second to the API server")
	fs.IntVar(&o.context.KubernetesAPIBurst, "kube-api-burst", o.context.KubernetesAPIBurst, "burst of queries to the API server")
	fs.StringVar(&o.context.ClusterResourceNamespace, "cluster-resource-namespace", o.context.ClusterResourceNamespace, "namespace of the Secrets that ClusterIssuers read")
	fs.StringVar(&o.context.Namespace, "namespace", "", "watch only this namespace (ClusterIssuers off)")
	fs.BoolVar(&o.leaderElect, "leader-elect", o.leaderElect, "take a Lease so that one replica works at a time")
	fs.StringVar(&o.leaderNamespace, "leader-election-namespace", o.leaderNamespace, "namespace of the leader-election Lease")
	fs.DurationVar(&o.leaseDuration, "leader-election-lease-duration", o.leaseDuration, "Lease duration")
	fs.DurationVar(&o.renewDeadline, "leader-election-renew-deadline", o.renewDeadline, "Lease renew deadline")
	fs.DurationVar(&o.retryPeriod, "leader-election-retry-period", o.retryPeriod, "Lease retry period")
	fs.StringSliceVar(&o.controllers, "controllers", o.controllers, "controllers to run: '*' (all this build carries), 'name', '-name'; carried: "+strings.Join(builtControllers, ", "))
	fs.IntVar(&o.workers, "concurrent-workers", o.workers, "workers per controller")
	fs.IntVar(&o.context.MaxConcurrentChallenges, "max-concurrent-challenges", o.context.MaxConcurrentChallenges, "ACME challenges at once (no ACME in this build: accepted for the chart's sake)")
	fs.StringVar(&o.context.HTTP01SolverImage, "acme-http01-solver-image", "", "ACME HTTP-01 solver image (no ACME in this build: accepted for the chart's sake)")
	fs.BoolVar(&o.context.EnableOwnerRef, "enable-certificate-owner-ref", false, "make each Certificate the owner of its Secret")
	fs.StringSliceVar(&o.context.CopiedAnnotationPrefixes, "copied-annotation-prefixes", o.context.CopiedAnnotationPrefixes, "annotations copied from a Certificate to its requests")
	fs.StringVar(&o.metricsAddress, "metrics-listen-address", o.metricsAddress, "Prometheus metrics address ('0': off)")
	fs.StringVar(&o.healthzAddress, "healthz-listen-address", o.healthzAddress, "liveness address (/livez)")
	fs.StringVar(&o.featureGates, "feature-gates", "", "feature gates, key=value pairs")
	logf.AddFlags(o.logging, fs)
	return cmd
}

// enabledControllers reads --controllers as upstream does: '*' for the default set, 'name' adds, '-name' removes.
func enabledControllers(requested []string) ([]string, error) {
	var enabled []string
	for _, name := range requested {
		switch {
		case name == "*":
			enabled = append(enabled, builtControllers...)
		case strings.HasPrefix(name, "-"):
			if !slices.Contains(builtControllers, name[1:]) && !upstreamOnly(name[1:]) {
				return nil, fmt.Errorf("--controllers: unknown controller %q", name[1:])
			}
			enabled = slices.DeleteFunc(enabled, func(n string) bool { return n == name[1:] })
		case slices.Contains(builtControllers, name):
			enabled = append(enabled, name)
		default:
			return nil, fmt.Errorf("--controllers: %q is not in this stand-in build (it carries %s)", name, strings.Join(builtControllers, ", "))
		}
	}
	slices.Sort(enabled)
	return slices.Compact(enabled), nil
}

// Upstream controllers this build leaves out; the chart may disable them by name.
func upstreamOnly(name string) bool {
	return strings.Contains(name, "acme") || strings.Contains(name, "vault") || strings.Contains(name, "venafi") ||
		strings.Contains(name, "ingress-shim") || strings.Contains(name, "gateway-shim") || strings.HasPrefix(name, "certificatesigningrequests-")
}

func runController(rootCtx context.Context, o *controllerOptions, enabled []string) error {
	rootCtx, cancel := context.WithCancel(rootCtx)
	defer cancel()
	log := logf.FromContext(rootCtx)
	log.Info("starting cert-manager controller (korthweb stand-in build of the upstream module)", "version", appVersion(), "controllers", enabled)
	group, rootCtx := errgroup.WithContext(rootCtx)

	factory, err := controller.NewContextFactory(rootCtx, o.context)
	if err != nil {
		return err
	}
	ctx, err := factory.Build()
	if err != nil {
		return err
	}

	if o.metricsAddress != "0" {
		listener, err := server.Listen(rootCtx, "tcp", o.metricsAddress)
		if err != nil {
			return fmt.Errorf("metrics address %s: %w", o.metricsAddress, err)
		}
		ctx.Metrics.SetupCertificateCollector(ctx.SharedInformerFactory.Certmanager().V1().Certificates().Lister())
		ctx.Metrics.SetupIssuerCollector(ctx.SharedInformerFactory.Certmanager().V1().Issuers().Lister())
		if slices.Contains(enabled, clusterissuers.ControllerName) {
			ctx.Metrics.SetupClusterIssuerCollector(ctx.SharedInformerFactory.Certmanager().V1().ClusterIssuers().Lister())
		}
		metrics := ctx.Metrics.NewServer(listener)
		group.Go(func() error { return serveUntilDone(rootCtx, metrics, listener) })
	}

	health := healthz.NewServer(o.leaderHealthTimeout)
	healthListener, err := (&net.ListenConfig{}).Listen(rootCtx, "tcp", o.healthzAddress)
	if err != nil {
		return fmt.Errorf("healthz address %s: %w", o.healthzAddress, err)
	}
	group.Go(func() error { return health.Start(rootCtx, healthListener) })

	elected := make(chan struct{})
	if o.leaderElect {
		group.Go(func() error { return leadOrWait(rootCtx, o, factory, health, elected) })
	} else {
		close(elected)
	}
	select {
	case <-rootCtx.Done():
		return group.Wait()
	case <-elected:
	}

	known := controller.Known()
	for _, name := range enabled {
		construct, ok := known[name]
		if !ok {
			cancel()
			return errors.Join(fmt.Errorf("controller %s is not registered in this build", name), group.Wait())
		}
		loop, err := construct(factory)
		if err != nil {
			cancel()
			return errors.Join(fmt.Errorf("starting controller %s: %w", name, err), group.Wait())
		}
		group.Go(func() error { return loop.Run(o.workers, rootCtx) })
	}
	ctx.SharedInformerFactory.Start(rootCtx.Done())
	ctx.KubeSharedInformerFactory.Start(rootCtx.Done())
	ctx.HTTP01ResourceMetadataInformersFactory.Start(rootCtx.Done())
	err = group.Wait()
	ctx.HTTP01ResourceMetadataInformersFactory.Shutdown()
	ctx.KubeSharedInformerFactory.Shutdown()
	ctx.SharedInformerFactory.Shutdown()
	return err
}

// leadOrWait holds the Lease cert-manager-controller (as upstream names it) and closes elected once it leads.
func leadOrWait(rootCtx context.Context, o *controllerOptions, factory *controller.ContextFactory, health *healthz.Server, elected chan struct{}) error {
	ctx, err := factory.Build("leader-election")
	if err != nil {
		return err
	}
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	lock, err := resourcelock.NewWithLabels(resourcelock.LeasesResourceLock, o.leaderNamespace, "cert-manager-controller",
		ctx.Client.CoreV1(), ctx.Client.CoordinationV1(),
		resourcelock.ResourceLockConfig{Identity: host + "-external-cert-manager-controller", EventRecorder: ctx.Recorder},
		map[string]string{"app.kubernetes.io/managed-by": "cert-manager"})
	if err != nil {
		return fmt.Errorf("leader-election lock: %w", err)
	}
	lost := make(chan error, 1)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   o.leaseDuration,
		RenewDeadline:   o.renewDeadline,
		RetryPeriod:     o.retryPeriod,
		ReleaseOnCancel: true,
		WatchDog:        health.LeaderHealthzAdaptor,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { close(elected) },
			OnStoppedLeading: func() {
				if rootCtx.Err() == nil {
					lost <- errors.New("leader election lost")
				}
			},
		},
	})
	if err != nil {
		return err
	}
	elector.Run(rootCtx)
	select {
	case err := <-lost:
		return err
	default:
		return nil
	}
}

func serveUntilDone(ctx context.Context, srv *http.Server, listener net.Listener) error {
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown) //nolint:contextcheck // the root context is already done
	}()
	if err := srv.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
