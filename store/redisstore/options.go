package redisstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Option configures New.
type Option func(*options)

type options struct {
	prefix      string
	waitN       int
	waitTimeout time.Duration
	accept      bool // AcceptEvictionRisk
	timeout     time.Duration
}

// MaxPrefixLen is the longest prefix WithPrefix accepts, in bytes.
const MaxPrefixLen = 128

// WithPrefix starts every key with prefix instead of DefaultPrefix: give
// each environment (or each product sharing a Redis) its own. The prefix is
// 1 to MaxPrefixLen bytes of printable ASCII without spaces, "{" or "}";
// New and Open return an error for another.
func WithPrefix(prefix string) Option {
	return func(o *options) { o.prefix = prefix }
}

// WithWait makes every write wait until replicas replicas acknowledge it,
// for at most timeout (Redis WAIT), and fail with an error wrapping
// ErrNotReplicated otherwise, so that a failover cannot lose an
// acknowledged claim, record or replay key. Set replicas to the number of
// replicas of each master, and timeout (a few hundred milliseconds) well
// under the client's ReadTimeout and the store's bound (WithTimeout). It
// needs a *redis.Client (single node or Sentinel) or a *redis.ClusterClient.
// New and Open return an error for negative replicas, for a timeout that is
// not positive while replicas > 0, and for another client; WithWait(0, 0)
// (the default) waits for nothing.
func WithWait(replicas int, timeout time.Duration) Option {
	return func(o *options) { o.waitN, o.waitTimeout = replicas, timeout }
}

// ErrNotReplicated reports that fewer replicas than WithWait asks
// acknowledged a write in time.
var ErrNotReplicated = errors.New("redisstore: write not acknowledged by enough replicas")

// DefaultTimeout bounds every Claim, Complete, Release and Add whose
// context has no earlier deadline, unless WithTimeout sets another bound. The handlers call Add with the request's
// context, which has none, and Claim and Complete under the claim lease
// (5 minutes by default). ReadTimeout bounds a command on a connection,
// but not the wait for one: when the server stops answering without
// closing connections (a partition that drops packets), every connection
// is held for ReadTimeout and callbacks queue for them, PoolTimeout each,
// which go-redis retries (MaxRetries): with the README's options, 100
// concurrent callbacks waited over 5 s, 300 over 9 s, past KooGallery's
// 5-second budget, instead of the handler answering 000005 in time.
const DefaultTimeout = 2 * time.Second

// WithTimeout bounds each Claim, Complete, Release and Add whose context has
// no earlier deadline (DefaultTimeout, 2 s, by default; d must be
// positive). Keep it well inside KooGallery's 5 s: a callback waits for its
// store operations before it answers.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// checkWait refuses a WithWait that cannot work: negative replicas, a
// timeout that is not positive while replicas are waited for (WAIT with
// no timeout would wait forever), or a client on which WAIT would not run
// on the connection that wrote (anything but a *redis.Client or a
// *redis.ClusterClient, a *redis.Ring among them).
func checkWait(c redis.UniversalClient, n int, timeout time.Duration) error {
	switch {
	case n < 0:
		return fmt.Errorf("WithWait(%d, %v): replicas is negative; want 0 (do not wait) or the number of replicas of each master", n, timeout)
	case n > 0 && timeout <= 0:
		return fmt.Errorf("WithWait(%d, %v): the timeout is not positive; want a positive timeout (a few hundred milliseconds) when waiting for replicas", n, timeout)
	case n == 0:
		return nil
	}
	switch c.(type) {
	case *redis.Client, *redis.ClusterClient:
		return nil
	}
	return fmt.Errorf("WithWait(%d, %v): the client is a %T; WithWait needs a *redis.Client (single node or Sentinel) or a *redis.ClusterClient", n, timeout, c)
}

// checkPrefix refuses a prefix that is not an identifier: empty or longer
// than MaxPrefixLen, with a byte that is not printable ASCII or is a space,
// or with a brace, which would make a Cluster hash tag of part of it.
func checkPrefix(p string) error {
	if p == "" || len(p) > MaxPrefixLen {
		return fmt.Errorf("WithPrefix: the prefix is %d bytes; want 1 to %d bytes of printable ASCII without spaces or braces", len(p), MaxPrefixLen)
	}
	for i := 0; i < len(p); i++ {
		switch b := p[i]; {
		case b <= ' ' || b >= 0x7f:
			return fmt.Errorf("WithPrefix: byte %d of the prefix (%#02x) is not printable ASCII or is a space; use letters, digits and punctuation such as \":\" and \"-\"", i, b)
		case b == '{' || b == '}':
			return fmt.Errorf("WithPrefix: byte %d of the prefix is %q: braces would make a Cluster hash tag of the prefix and put every key in one slot; use a prefix without braces", i, b)
		}
	}
	return nil
}
