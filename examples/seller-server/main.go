// Command seller-server is a production-shaped KooGallery seller server:
// every production interface of the SDK on one mux, an in-memory provider
// that is idempotent the way KooGallery requires, JSON logs, a health check,
// timeouts on the http.Server and a graceful shutdown.
//
//	KOOGALLERY_ACCESS_KEY=... go run ./examples/seller-server --addr :8080
//
// Each family is served when its key is set:
//
//	KOOGALLERY_ACCESS_KEY  /isv/produce (SaaS V2), /isv/license (License 2.0), /isv/order (orderNotify)
//	KOOGALLERY_V1_KEY      /isv/v1 (SaaS V1)
//	KOOGALLERY_KIT_KEY     /isv/produce/produceAPI/[v2/]<name> (joint-operation kit, V1 and V2)
//
// KOOGALLERY_KIT_PRIVATE_KEY_FILE names the RSA private key (PEM) that
// decrypts the kit's clientSecret; KOOGALLERY_V1_ENCRYPT_TYPE=2 selects
// AES-128 for V1 answers. With HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK set
// (and KOOGALLERY_ENDPOINT for kgctl fake), an order notification queries
// the order. GET /healthz answers 200 "ok". SIGINT or SIGTERM stops it
// gracefully.
//
// State lives in memory: one process, forgotten on restart. Several
// replicas need a shared saas.Store (see newStore).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
)

// config is what the server reads from its environment.
type config struct {
	accessKey, v1Key, kitKey string
	kitPrivateKeyFile        string
	v1EncryptType            saas.EncryptType
	publicURL                string // where buyers reach the instances
	orders                   *order.Client
}

func configFromEnv(log *slog.Logger) (config, error) {
	c := config{
		accessKey:         os.Getenv("KOOGALLERY_ACCESS_KEY"),
		v1Key:             os.Getenv("KOOGALLERY_V1_KEY"),
		kitKey:            os.Getenv("KOOGALLERY_KIT_KEY"),
		kitPrivateKeyFile: os.Getenv("KOOGALLERY_KIT_PRIVATE_KEY_FILE"),
		publicURL:         os.Getenv("KOOGALLERY_PUBLIC_URL"),
		v1EncryptType:     saas.AES256,
	}
	if c.accessKey == "" && c.v1Key == "" && c.kitKey == "" {
		return c, errors.New("set at least one of KOOGALLERY_ACCESS_KEY, KOOGALLERY_V1_KEY, KOOGALLERY_KIT_KEY")
	}
	switch t := os.Getenv("KOOGALLERY_V1_ENCRYPT_TYPE"); t {
	case "", "1":
	case "2":
		c.v1EncryptType = saas.AES128
	default:
		return c, fmt.Errorf("KOOGALLERY_V1_ENCRYPT_TYPE must be 1 (AES-256) or 2 (AES-128), not %q", t)
	}
	if c.publicURL == "" {
		c.publicURL = "https://seller.example.com"
	}
	if os.Getenv(koogallery.EnvAccessKey) != "" && os.Getenv(koogallery.EnvSecretKey) != "" {
		opts := []koogallery.Option{koogallery.WithLogger(log)}
		if e := os.Getenv("KOOGALLERY_ENDPOINT"); e != "" {
			opts = append(opts, koogallery.WithEndpoint(e))
		}
		kg, err := koogallery.NewClient(opts...)
		if err != nil {
			return c, fmt.Errorf("open-API client: %w", err)
		}
		c.orders = order.NewClient(kg)
	}
	return c, nil
}

// newStore is where newInstance and upgrade outcomes are recorded. The memory
// store gives at-most-once provisioning in one process; replicas behind a
// load balancer need a shared store (store/redisstore, store/pgstore).
func newStore() saas.Store {
	return saas.NewMemoryStore(saas.DefaultMemoryStoreSize)
}

// newMux mounts every family whose key is configured.
func newMux(cfg config, p *provider, log *slog.Logger) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	store := newStore()
	var mounted []string
	if cfg.accessKey != "" {
		mux.Handle("/isv/produce", saas.NewHandler(cfg.accessKey, p, saas.WithStore(store, 0), saas.WithLogger(log)))
		mux.Handle("/isv/license", license.NewHandler(cfg.accessKey, p.licenses(), license.WithLogger(log)))
		mux.Handle("/isv/order", order.NewNotificationHandler(cfg.accessKey, p.onOrder, order.WithLogger(log)))
		mounted = append(mounted, "/isv/produce", "/isv/license", "/isv/order")
	}
	if cfg.v1Key != "" {
		v1opts := []saas.Option{saas.WithStore(store, 0), saas.WithLogger(log)}
		if cfg.v1EncryptType != "" { // unset: the handler's default, AES-256
			v1opts = append(v1opts, saas.WithEncryptType(cfg.v1EncryptType))
		}
		mux.Handle("/isv/v1", saas.NewV1Handler(cfg.v1Key, p.v1(), v1opts...))
		mounted = append(mounted, "/isv/v1")
	}
	if cfg.kitKey != "" {
		opts := []saas.Option{saas.WithLogger(log)}
		if cfg.kitPrivateKeyFile != "" {
			pem, err := os.ReadFile(cfg.kitPrivateKeyFile)
			if err != nil {
				return nil, fmt.Errorf("KOOGALLERY_KIT_PRIVATE_KEY_FILE: %w", err)
			}
			k, err := saas.ParseKitPrivateKey(pem)
			if err != nil {
				return nil, fmt.Errorf("KOOGALLERY_KIT_PRIVATE_KEY_FILE: %w", err)
			}
			opts = append(opts, saas.WithKitPrivateKey(k))
		}
		// KooGallery appends /produceAPI/[v2/]<name> to the production URL;
		// the demo serves them under the basic interface's path.
		mux.Handle("/isv/produce/", saas.NewKitHandler(cfg.kitKey, p.kit(), opts...))
		mounted = append(mounted, "/isv/produce/produceAPI/...")
	}
	log.Info("seller-server: interfaces mounted", slog.Any("paths", mounted))
	return mux, nil
}

// newServer sets the timeouts a server facing the internet needs. KooGallery
// waits 5 s for an answer; the handlers answer well within that.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serve runs srv on ln until ctx ends, then shuts down gracefully: in-flight
// calls finish (up to grace), new ones are refused.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("seller-server: listening", slog.String("addr", ln.Addr().String()))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("seller-server: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("seller-server: stopped")
	return nil
}

func main() {
	addr := flag.String("addr", envOr("KOOGALLERY_ADDR", ":8080"), "listen address")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(log)
	if err := run(*addr, log); err != nil {
		log.Error("seller-server: " + err.Error())
		os.Exit(1)
	}
}

func run(addr string, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := configFromEnv(log)
	if err != nil {
		return err
	}
	p := newProvider(cfg.publicURL, cfg.orders, log)
	mux, err := newMux(cfg, p, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serve(ctx, newServer(mux, log), ln, 10*time.Second, log)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
