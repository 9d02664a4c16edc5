package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// ErrEvictingPolicy reports a Redis whose maxmemory-policy is not
// noeviction (or cannot be read): under memory pressure it may delete the
// store's live keys, and a deleted replay key accepts a replay, a deleted
// claim or record lets a second caller win.
var ErrEvictingPolicy = errors.New("redisstore: Redis may evict the store's keys")

// AcceptEvictionRisk lets New, Open and CheckServer accept a Redis whose
// maxmemory-policy evicts keys (or cannot be read), which they refuse
// otherwise: the seller accepts that under memory pressure a replay may be
// accepted and an order line provisioned twice. The report warns instead.
// Prefer setting maxmemory-policy noeviction.
func AcceptEvictionRisk() Option {
	return func(o *options) { o.accept = true }
}

// Report is what CheckServer read from each Redis master.
type Report struct {
	// Servers has one entry for each master checked: one for a single node
	// or Sentinel, each master of a Cluster, each shard of a Ring.
	Servers []ServerInfo
	// Warnings says, in a sentence each, what threatens the store's
	// promises without being refused: persistence off, an eviction risk
	// accepted. A library does not print them: log them.
	Warnings []string
}

// ServerInfo is what CheckServer read from one Redis master's INFO.
type ServerInfo struct {
	// Addr is the master's address as the client knows it.
	Addr string
	// InfoRefused is the master's answer to INFO when it refused the
	// command (an ACL without +info, a proxy that does not pass it on):
	// then nothing else was read, and the policy counts as evicting.
	InfoRefused string
	// MaxmemoryPolicy is INFO memory's maxmemory_policy ("" if absent).
	MaxmemoryPolicy string
	// Maxmemory is INFO memory's maxmemory in bytes; 0 is no limit.
	Maxmemory int64
	// AOF reports whether the append-only file is on (aof_enabled:1).
	AOF bool
	// SaveKnown reports whether Save was read: INFO does not show RDB save
	// points, so CheckServer asks CONFIG GET save, which managed Redis may
	// refuse.
	SaveKnown bool
	// Save is the RDB save points ("3600 1 300 100"), "" for none.
	Save string
}

// Evicts reports whether the master may evict keys: its policy is not
// noeviction, or was not found.
func (i ServerInfo) Evicts() bool { return i.MaxmemoryPolicy != "noeviction" }

// CheckServer reads INFO memory and INFO persistence from every master c
// reaches, and returns an error wrapping ErrEvictingPolicy if one of them
// may evict keys (maxmemory-policy other than noeviction, or none found)
// unless opts hold AcceptEvictionRisk; other options are ignored. The
// report lists what each master said, and warns when one has neither AOF
// nor RDB save points (a restart forgets every record) or when the eviction
// risk was accepted. It does not depend on CONFIG, which managed Redis
// often disables: CONFIG GET save is only asked to tell RDB snapshots on
// from off, and a refusal leaves SaveKnown false. A master that refuses
// INFO (an ACL without +info) counts as evicting, since its policy cannot
// be read; a master that does not answer is an error.
func CheckServer(ctx context.Context, c redis.UniversalClient, opts ...Option) (*Report, error) {
	if c == nil {
		return nil, errors.New("redisstore: check: nil client")
	}
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return checkServer(ctx, c, o.accept)
}

func checkServer(ctx context.Context, c redis.UniversalClient, accept bool) (*Report, error) {
	var (
		mu      sync.Mutex
		servers []ServerInfo
	)
	each := func(ctx context.Context, n *redis.Client) error {
		i, err := readServer(ctx, n, n.Options().Addr)
		if err != nil {
			return err
		}
		mu.Lock()
		servers = append(servers, i)
		mu.Unlock()
		return nil
	}
	var err error
	switch cc := c.(type) {
	case *redis.ClusterClient:
		err = cc.ForEachMaster(ctx, each)
	case *redis.Ring:
		err = cc.ForEachShard(ctx, each)
	case *redis.Client:
		addr := cc.Options().Addr
		if addr == "FailoverClient" { // go-redis's name for a Sentinel client
			addr = "the Sentinel master"
		}
		var i ServerInfo
		i, err = readServer(ctx, cc, addr)
		servers = append(servers, i)
	default:
		var i ServerInfo
		i, err = readServer(ctx, c, "")
		servers = append(servers, i)
	}
	if err != nil {
		return nil, wrap(ctx, "check", err)
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].Addr < servers[j].Addr })
	r := &Report{Servers: servers}
	var refused []string
	for _, s := range servers {
		name := s.Addr
		if name == "" {
			name = "Redis"
		}
		if s.InfoRefused != "" {
			r.Warnings = append(r.Warnings, name+" refused INFO: its persistence is unknown")
		} else if !s.AOF && s.SaveKnown && s.Save == "" {
			r.Warnings = append(r.Warnings, name+" has persistence off (appendonly no, no save points): a restart of Redis forgets every record and replay key; set appendonly yes")
		} else if !s.AOF && !s.SaveKnown {
			r.Warnings = append(r.Warnings, name+" has AOF off (appendonly no) and its RDB save points could not be read: unless snapshots are on, a restart of Redis forgets every record and replay key; set appendonly yes")
		}
		if !s.Evicts() {
			continue
		}
		policy := "maxmemory-policy " + s.MaxmemoryPolicy
		switch {
		case s.InfoRefused != "":
			policy = "refused INFO (" + s.InfoRefused + "), so its maxmemory-policy is unknown: allow INFO to the store's Redis user (ACL: +info)"
		case s.MaxmemoryPolicy == "":
			policy = "no maxmemory_policy in INFO memory"
		}
		if accept {
			r.Warnings = append(r.Warnings, name+" has "+policy+": under memory pressure Redis may evict live keys, accept a replay and let a claim be won twice (risk accepted with AcceptEvictionRisk)")
		} else {
			refused = append(refused, name+" has "+policy)
		}
	}
	if len(refused) > 0 {
		return r, fmt.Errorf("%w: %s: set maxmemory-policy noeviction (every key the store writes has a TTL, so any volatile-* or allkeys-* policy may evict live keys, accept a replay and let a claim be won twice), or accept the risk with AcceptEvictionRisk",
			ErrEvictingPolicy, strings.Join(refused, ", "))
	}
	return r, nil
}

// readServer reads one master's INFO memory and persistence, and CONFIG
// GET save if it is allowed.
func readServer(ctx context.Context, c redis.Cmdable, addr string) (ServerInfo, error) {
	i := ServerInfo{Addr: addr}
	mem, err := c.Info(ctx, "memory").Result()
	var refused redis.Error
	if errors.As(err, &refused) && ctx.Err() == nil {
		// The server answered, with an error: INFO is not allowed.
		i.InfoRefused = refused.Error()
		return i, nil
	}
	if err != nil {
		return i, infoErr(addr, "INFO memory", err)
	}
	per, err := c.Info(ctx, "persistence").Result()
	if err != nil {
		return i, infoErr(addr, "INFO persistence", err)
	}
	m, p := infoFields(mem), infoFields(per)
	i.MaxmemoryPolicy = m["maxmemory_policy"]
	i.Maxmemory, _ = strconv.ParseInt(m["maxmemory"], 10, 64)
	i.AOF = p["aof_enabled"] == "1"
	if !i.AOF {
		if v, err := c.ConfigGet(ctx, "save").Result(); err == nil {
			if s, ok := v["save"]; ok {
				i.Save, i.SaveKnown = strings.TrimSpace(s), true
			}
		} else if ctx.Err() != nil {
			return i, ctx.Err()
		}
	}
	return i, nil
}

func infoErr(addr, what string, err error) error {
	if addr == "" {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s of %s: %w", what, addr, err)
}

// infoFields parses INFO's "name:value" lines.
func infoFields(s string) map[string]string {
	f := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			f[k] = v
		}
	}
	return f
}
