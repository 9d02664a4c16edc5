package proof

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
	"github.com/isvkit/koogallery/saas/kit"
	"github.com/isvkit/koogallery/store"
	"github.com/isvkit/koogallery/store/pgstore"
	"github.com/isvkit/koogallery/store/redisstore"
)

// EnvReplica names the environment variable that makes a binary calling
// MaybeReplica run as a seller replica; the driver sets it, with the
// replica's configuration, when it starts one.
const EnvReplica = "KOOGALLERY_PROOF_REPLICA"

// The keys the replicas verify with and the driver signs with.
const (
	accessKey = "proof-access-key-5f2b1c9a7d43"
	v1Key     = "proof-v1-key-0c3e2d4f8b17"
	kitKey    = "proof-kit-key-9a614e8b7d43"
)

// Backends.
const (
	Memory   = "memory"
	Redis    = "redis"
	Postgres = "postgres"
)

// The replica's lines on stdout, and the header naming the replica that
// answered.
const (
	lineListening = "proof: listening "
	lineHalfMade  = "proof: halfmade "
	headerReplica = "X-Proof-Replica"
	pathLedger    = "/proof/ledger"
)

// replicaConfig is what a replica is told by the driver.
type replicaConfig struct {
	Slot      int
	Store     string // handlers' shared state: Memory (each handler's default), Redis, Postgres
	Ledger    string // the seller's ledger: Memory, Redis, Postgres
	RedisAddr string
	// LedgerRedisAddr is the ledger's Redis, a server of its own (the
	// seller's database, which the store faults leave alone).
	LedgerRedisAddr string
	PGURL           string
	Lease           time.Duration
	Delay           time.Duration
	LogFile         string
}

// MaybeReplica runs the process as a seller replica and exits if
// EnvReplica is set; otherwise it returns at once. Call it first in main
// (or TestMain) of a binary that runs the proof: the driver starts its
// replicas by running its own executable again.
func MaybeReplica() {
	raw := os.Getenv(EnvReplica)
	if raw == "" {
		return
	}
	var c replicaConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		fmt.Fprintln(os.Stderr, "proof replica: bad configuration:", err)
		os.Exit(2)
	}
	if err := runReplica(c); err != nil {
		fmt.Fprintln(os.Stderr, "proof replica:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// stdout serialises the replica's announcements.
var stdout sync.Mutex

func announce(line string) {
	stdout.Lock()
	defer stdout.Unlock()
	fmt.Fprintln(os.Stdout, line)
}

// redisOptions are the client options the README recommends.
func redisOptions(addr string) *redis.Options {
	return &redis.Options{Addr: addr, ContextTimeoutEnabled: true,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second}
}

// pgPool opens a pool of up to 16 connections: the default (4 on two
// cores) would make the pool, not the database, the bottleneck.
func pgPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 16
	return pgxpool.NewWithConfig(ctx, cfg)
}

func runReplica(c replicaConfig) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logf, err := os.OpenFile(c.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	log := slog.New(slog.NewJSONHandler(logf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// go-redis logs a failed dial (a store fault) on stderr, which the
	// driver reads as the replica failing: it goes to the replica's log.
	redis.SetLogger(redisLogger{log})

	var rdb *redis.Client
	var pool *pgxpool.Pool
	if c.Store == Redis {
		rdb = redis.NewClient(redisOptions(c.RedisAddr))
		defer rdb.Close()
	}
	if c.Store == Postgres || c.Ledger == Postgres {
		if pool, err = pgPool(ctx, c.PGURL); err != nil {
			return err
		}
		defer pool.Close()
		if err := pgstore.Migrate(ctx, pool); err != nil { // as every replica does at start
			return err
		}
	}

	var st store.Store
	var rc store.ReplayCache
	switch c.Store {
	case Redis:
		s, err := redisstore.New(rdb)
		if err != nil {
			return err
		}
		st, rc = s, s
	case Postgres:
		s, err := pgstore.New(pool, pgstore.WithLogger(log))
		if err != nil {
			return err
		}
		st, rc = s, s
	case Memory: // each handler's own default
	default:
		return fmt.Errorf("unknown store %q", c.Store)
	}
	var ledger Ledger
	switch c.Ledger {
	case Redis:
		// Its own client, which never re-sends a command whose answer timed
		// out: a re-sent write could count an event twice, and the ledger
		// is what the proof counts with.
		o := redisOptions(c.LedgerRedisAddr)
		o.MaxRetries = -1
		ledger = &redisLedger{c: redis.NewClient(o)}
		defer ledger.Close()
	case Postgres:
		ledger = &pgLedger{pool: pool}
	case Memory:
		ledger = newMemLedger()
	default:
		return fmt.Errorf("unknown ledger %q", c.Ledger)
	}

	s := &seller{ledger: ledger, replica: strconv.Itoa(c.Slot), delay: c.Delay,
		halfMade: func(line, id string) { announce(lineHalfMade + line + " " + id) }}
	logged := callback.WithLogger(log)
	var records callback.StoreOption // nil: the handlers' memory stores
	if st != nil {
		records = callback.WithStore(st, 0)
	}
	lease := callback.WithClaimLease(c.Lease)
	var nonces callback.ReplayCacheOption // nil: each handler's memory cache
	if rc != nil {
		nonces = callback.WithReplayCache(rc)
	}

	mux := http.NewServeMux()
	mux.Handle("/isv/produce", saas.NewHandler(accessKey, v2Seller{s}, logged, records, lease, nonces))
	mux.Handle("/isv/produce/", kit.NewHandler(kitKey, kitSeller{s}, logged, records, lease, nonces))
	mux.Handle("/isv/v1", saas.NewV1Handler(v1Key, v1Seller{s}, logged, records, lease))
	mux.Handle("/isv/license", license.NewHandler(accessKey, licenseSeller{s}, logged, nonces))
	mux.Handle("/isv/order", order.NewNotificationHandler(accessKey, s.onOrder, logged, nonces))
	mux.HandleFunc("GET "+pathLedger, func(w http.ResponseWriter, r *http.Request) {
		d, err := ledger.Dump(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(d)
	})
	slot := strconv.Itoa(c.Slot)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(headerReplica, slot)
			mux.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	announce(lineListening + ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// redisLogger writes go-redis's messages to the replica's log.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "go-redis", "message", fmt.Sprintf(format, v...))
}
