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
// the order. GET /healthz answers 200 "ok". GET /metrics serves every
// handler's calls, durations, refusals and store errors in the Prometheus
// text format (docs/observability.md lists them). SIGINT or SIGTERM stops
// it gracefully.
//
// The handlers' state (which newInstance and upgrade already ran, the
// nonces and calls already served) lives where the environment says:
//
//	KOOGALLERY_REDIS_URL     redis://[:password@]host:6379/0: Redis (store/redisstore), shared by every replica
//	KOOGALLERY_DATABASE_URL  postgres://user:password@host:5432/db: PostgreSQL (store/pgstore), shared by every replica
//	neither                  memory: one process only, forgotten on restart
//
// Percent-encode the password in either URL (url.UserPassword); a malformed
// URL is refused at start, and no error or log line quotes it. The server
// refuses to start on a Redis whose maxmemory-policy is not noeviction (it
// may evict live keys: a replay accepted, an order line provisioned twice)
// unless KOOGALLERY_REDIS_ACCEPT_EVICTION_RISK=1, and logs a warning when
// Redis persistence is off.
//
// This example's provider keeps its instances in memory, so only the
// handlers' state is shared: a real seller keeps its instances in its own
// database, and looks an order line up there before provisioning.
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

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/saas/kit"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
	"github.com/isvkit/koogallery/store"
	"github.com/isvkit/koogallery/store/pgstore"
	"github.com/isvkit/koogallery/store/redisstore"
)

// config is what the server reads from its environment.
type config struct {
	accessKey, v1Key, kitKey string
	kitPrivateKeyFile        string
	v1EncryptType            saas.EncryptType
	publicURL                string // where buyers reach the instances
	orders                   *order.Client
	redisURL, databaseURL    string // the shared store, if any; secrets: never logged
	redisAcceptEviction      bool   // run on a Redis that may evict keys
}

func configFromEnv(log *slog.Logger) (config, error) {
	c := config{
		accessKey:         os.Getenv("KOOGALLERY_ACCESS_KEY"),
		v1Key:             os.Getenv("KOOGALLERY_V1_KEY"),
		kitKey:            os.Getenv("KOOGALLERY_KIT_KEY"),
		kitPrivateKeyFile: os.Getenv("KOOGALLERY_KIT_PRIVATE_KEY_FILE"),
		publicURL:         os.Getenv("KOOGALLERY_PUBLIC_URL"),
		v1EncryptType:     saas.AES256,
		redisURL:          os.Getenv("KOOGALLERY_REDIS_URL"),
		databaseURL:       os.Getenv("KOOGALLERY_DATABASE_URL"),
	}
	if c.redisURL != "" && c.databaseURL != "" {
		return c, errors.New("set one of KOOGALLERY_REDIS_URL and KOOGALLERY_DATABASE_URL, not both")
	}
	// Malformed URLs are configuration errors, found before anything
	// starts; their errors never quote the URL (it holds a password).
	if c.redisURL != "" {
		if _, err := redisOptions(c.redisURL); err != nil {
			return c, err
		}
	}
	if c.databaseURL != "" {
		if _, err := pgConfig(c.databaseURL); err != nil {
			return c, err
		}
	}
	switch v := os.Getenv("KOOGALLERY_REDIS_ACCEPT_EVICTION_RISK"); v {
	case "", "0":
	case "1":
		c.redisAcceptEviction = true
	default:
		return c, errors.New("KOOGALLERY_REDIS_ACCEPT_EVICTION_RISK must be 1 or unset")
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

// state is where the handlers keep what makes them exactly-once and
// replay-proof.
type state struct {
	kind   string            // "memory", "redis" or "postgres"
	store  store.Store       // the at-most-once records and the V1 and kit replay guards
	replay store.ReplayCache // the nonces of V2-scheme calls; nil: each handler's own memory
	close  func()
}

// openState opens the store the configuration names. Memory gives
// at-most-once provisioning and replay protection within one process; a
// shared store (Redis, PostgreSQL) gives them to every replica sharing it,
// and across restarts.
func openState(ctx context.Context, cfg config, log *slog.Logger) (*state, error) {
	switch {
	case cfg.redisURL != "":
		opts, err := redisOptions(cfg.redisURL)
		if err != nil {
			return nil, err
		}
		// A store that does not answer must cost a call a retryable 000005
		// well inside KooGallery's 5 s, not the whole 5 s.
		opts.ContextTimeoutEnabled = true
		for _, d := range []*time.Duration{&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout} {
			if *d == 0 {
				*d = time.Second
			}
		}
		rdb := redis.NewClient(opts)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := rdb.Ping(pctx).Err(); err != nil {
			rdb.Close()
			return nil, fmt.Errorf("KOOGALLERY_REDIS_URL: %w", scrubbed(err, cfg.redisURL))
		}
		// A Redis that may evict keys would accept replays and provision
		// twice under memory pressure: refuse to start on it.
		var sopts []redisstore.Option
		if cfg.redisAcceptEviction {
			sopts = append(sopts, redisstore.AcceptEvictionRisk())
		}
		s, report, err := redisstore.Open(pctx, rdb, sopts...)
		if err != nil {
			rdb.Close()
			if errors.Is(err, redisstore.ErrEvictingPolicy) {
				return nil, fmt.Errorf("KOOGALLERY_REDIS_URL: %w (seller-server: set KOOGALLERY_REDIS_ACCEPT_EVICTION_RISK=1 to accept the risk)", err)
			}
			return nil, fmt.Errorf("KOOGALLERY_REDIS_URL: %w", scrubbed(err, cfg.redisURL))
		}
		for _, w := range report.Warnings {
			log.Warn("seller-server: KOOGALLERY_REDIS_URL: " + w)
		}
		return &state{kind: "redis", store: s, replay: s, close: func() { rdb.Close() }}, nil
	case cfg.databaseURL != "":
		pcfg, err := pgConfig(cfg.databaseURL)
		if err != nil {
			return nil, err
		}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, fmt.Errorf("KOOGALLERY_DATABASE_URL: %w", scrubbed(err, cfg.databaseURL))
		}
		mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := pgstore.Migrate(mctx, pool); err != nil { // safe from every replica at once
			pool.Close()
			return nil, fmt.Errorf("KOOGALLERY_DATABASE_URL: %w", scrubbed(err, cfg.databaseURL))
		}
		s, err := pgstore.New(pool, pgstore.WithLogger(log))
		if err != nil {
			pool.Close()
			return nil, err // "pgstore: new: …": names no URL, holds no password
		}
		return &state{kind: "postgres", store: s, replay: s, close: pool.Close}, nil
	}
	return &state{kind: "memory", store: saas.NewMemoryStore(saas.DefaultMemoryStoreSize), close: func() {}}, nil
}

// newMux mounts every family whose key is configured, keeping their state
// in st.
func newMux(cfg config, p *provider, st *state, log *slog.Logger) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	// records: the SaaS handlers' outcomes and the V1 replay guard. With
	// memory the kit keeps its replay guard in its own memory store, apart
	// from the outcomes, which are kept 30 days.
	cb, metrics, err := newMetrics()
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /metrics", metrics)
	// observed: every handler tells its outcomes to the metrics, and runs
	// inside a span of the middleware (cb.Middleware).
	observed := cb.Option()
	logged := callback.WithLogger(log)
	records := callback.WithStore(st.store, 0)
	var kitState callback.StoreOption     // nil: the kit's own memory store
	var nonces callback.ReplayCacheOption // nil: each handler's memory cache
	if st.replay != nil {
		kitState = records
		nonces = callback.WithReplayCache(st.replay)
	}
	var mounted []string
	if cfg.accessKey != "" {
		mux.Handle("/isv/produce", cb.Middleware(saas.NewHandler(cfg.accessKey, p, logged, observed, records, nonces)))
		mux.Handle("/isv/license", cb.Middleware(license.NewHandler(cfg.accessKey, p.licenses(), logged, observed, nonces)))
		mux.Handle("/isv/order", cb.Middleware(order.NewNotificationHandler(cfg.accessKey, p.onOrder, logged, observed, nonces)))
		mounted = append(mounted, "/isv/produce", "/isv/license", "/isv/order")
	}
	if cfg.v1Key != "" {
		v1opts := []callback.SaaSV1Option{logged, observed, records}
		if cfg.v1EncryptType != "" { // unset: the handler's default, AES-256
			v1opts = append(v1opts, saas.WithEncryptType(cfg.v1EncryptType))
		}
		mux.Handle("/isv/v1", cb.Middleware(saas.NewV1Handler(cfg.v1Key, p.v1(), v1opts...)))
		mounted = append(mounted, "/isv/v1")
	}
	if cfg.kitKey != "" {
		opts := []callback.KitOption{logged, observed, kitState, nonces}
		if cfg.kitPrivateKeyFile != "" {
			pem, err := os.ReadFile(cfg.kitPrivateKeyFile)
			if err != nil {
				return nil, fmt.Errorf("KOOGALLERY_KIT_PRIVATE_KEY_FILE: %w", err)
			}
			k, err := kit.ParsePrivateKey(pem)
			if err != nil {
				return nil, fmt.Errorf("KOOGALLERY_KIT_PRIVATE_KEY_FILE: %w", err)
			}
			opts = append(opts, kit.WithPrivateKey(k))
		}
		// KooGallery appends /produceAPI/[v2/]<name> to the production URL;
		// the demo serves them under the basic interface's path.
		mux.Handle("/isv/produce/", cb.Middleware(kit.NewHandler(cfg.kitKey, p.kit(), opts...)))
		mounted = append(mounted, "/isv/produce/produceAPI/...")
	}
	log.Info("seller-server: interfaces mounted", slog.Any("paths", mounted), slog.String("state", st.kind))
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
	st, err := openState(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.close() // after serve: in-flight calls still use it
	p := newProvider(cfg.publicURL, cfg.orders, log)
	mux, err := newMux(cfg, p, st, log)
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
