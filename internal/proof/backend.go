package proof

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/redis/go-redis/v9"

	"github.com/isvkit/koogallery/store/pgstore"
	"github.com/isvkit/koogallery/store/pgstore/pgtest"
	"github.com/isvkit/koogallery/store/redisstore/redistest"
)

// backend is the store a run's replicas share, the ledger, and what the
// faults need to reach them.
type backend struct {
	base   replicaConfig
	sc     *storeCtl
	pause  pauser
	dump   func(context.Context) (*Dump, error)
	closes []func()
}

// onClose queues f for close, which runs them in reverse.
func (b *backend) onClose(f func()) { b.closes = append(b.closes, f) }

// close stops what startBackend started.
func (b *backend) close() {
	for i := len(b.closes) - 1; i >= 0; i-- {
		b.closes[i]()
	}
}

// startBackend starts cfg's servers: the handlers' store, the ledger, and
// the relay a partition goes through. The caller closes it, also after an
// error.
func startBackend(ctx context.Context, cfg Config, rep *Report, dir string, progress func(string)) (*backend, error) {
	be := &backend{base: replicaConfig{Store: rep.Store, Ledger: rep.Ledger, Lease: cfg.Lease, Delay: cfg.Delay},
		sc: &storeCtl{down: cfg.StoreDown, part: cfg.Partition}}
	base, sc := &be.base, be.sc
	switch cfg.Backend {
	case Redis:
		progress("starting redis-server: the handlers' and the ledger's")
		// The handlers' Redis, which the store faults kill and restart: with
		// AOF (appendfsync everysec) if a fault restarts it with its data.
		if cfg.injects(FaultRedisRestartAOF) {
			sc.redisArgs, sc.aof = []string{"--appendonly", "yes", "--appendfsync", "everysec"}, true
		} else {
			sc.redisArgs = []string{"--appendonly", "no"}
		}
		srv, err := startRedis(filepath.Join(dir, "redis"), sc.redisArgs...)
		if err != nil {
			return be, err
		}
		be.onClose(func() { srv.close() })
		sc.redis = srv
		base.RedisAddr = srv.addr()
		// The ledger, the seller's own database, on a server of its own,
		// which the store faults leave alone (the outage stops it too).
		lsrv, err := redistest.NewServer(filepath.Join(dir, "ledger"))
		if err != nil {
			return be, err
		}
		be.onClose(func() { lsrv.Close() })
		base.LedgerRedisAddr = lsrv.Addr
		sc.rdb = redis.NewClient(redisOptions(srv.addr()))
		be.onClose(func() { sc.rdb.Close() })
		ldb := redis.NewClient(redisOptions(lsrv.Addr))
		be.onClose(func() { ldb.Close() })
		info, err := ldb.Info(ctx, "server").Result()
		if err != nil {
			return be, err
		}
		lpid, err := infoPID(info)
		if err != nil {
			return be, err
		}
		be.pause.pids = func() ([]int, error) { return []int{srv.pid(), lpid}, nil }
		be.dump = (&redisLedger{c: ldb}).Dump
		if cfg.injects(FaultPartition) {
			if sc.relay, err = newRelay(srv.addr()); err != nil {
				return be, err
			}
			be.onClose(sc.relay.close)
			base.RedisAddr = sc.relay.addr()
		}
	case Postgres:
		progress("starting PostgreSQL")
		var settings []string
		if cfg.injects(FaultPostgresKill) {
			// pgtest turns synchronous_commit off, which acknowledges a
			// commit before its WAL is written: a crash would lose it.
			// fsync stays off: a killed server loses nothing the kernel
			// holds; the proof does not crash the machine.
			settings = append(settings, "synchronous_commit=on")
		}
		srv, err := pgtest.NewServer("", settings...)
		if err != nil {
			return be, err
		}
		be.onClose(func() { srv.Close() })
		sc.pg = srv
		base.PGURL = srv.URL
		if cfg.injects(FaultPartition) {
			host, err := pgHost(srv.URL)
			if err != nil {
				return be, err
			}
			if sc.relay, err = newRelay(host); err != nil {
				return be, err
			}
			be.onClose(sc.relay.close)
			if base.PGURL, err = viaRelay(srv.URL, sc.relay.addr()); err != nil {
				return be, err
			}
		}
		pool, err := pgPool(ctx, srv.URL)
		if err != nil {
			return be, err
		}
		be.onClose(pool.Close)
		if _, err := pool.Exec(ctx, pgLedgerSchema); err != nil {
			return be, err
		}
		if err := pgstore.Migrate(ctx, pool); err != nil {
			return be, err
		}
		data := filepath.Join(srv.Dir, "data")
		sc.pgData = data
		be.pause.pids = func() ([]int, error) { return postgresPIDs(data) }
		be.dump = (&pgLedger{pool: pool}).Dump
	case Memory:
		if cfg.Faults || len(cfg.StoreFaults) > 0 {
			return be, errors.New("proof: no faults with the memory backend: a restart forgets it, and there is no server to stop")
		}
	default:
		return be, fmt.Errorf("proof: unknown backend %q", cfg.Backend)
	}

	return be, nil
}
