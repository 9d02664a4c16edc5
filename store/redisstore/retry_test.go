package redisstore_test

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store/redisstore"
	"github.com/isvkit/koogallery/store/redisstore/redistest"
)

// lossyLink forwards TCP connections to a Redis and, once lose is called,
// drops Redis's replies on the connections open then: the command runs,
// its answer is lost, as when a network path or a stalled Redis outlives
// the client's ReadTimeout. Connections opened later work.
type lossyLink struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []*atomic.Bool // per connection: drop replies
	wg     sync.WaitGroup
}

func newLossyLink(t *testing.T, target string) *lossyLink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := &lossyLink{ln: ln, target: target}
	l.wg.Add(1)
	go l.accept()
	t.Cleanup(func() { ln.Close(); l.wg.Wait() })
	return l
}

func (l *lossyLink) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", l.target)
		if err != nil {
			c.Close()
			continue
		}
		drop := &atomic.Bool{}
		l.mu.Lock()
		l.conns = append(l.conns, drop)
		l.mu.Unlock()
		l.wg.Add(2)
		go func() { defer l.wg.Done(); _, _ = io.Copy(s, c); s.Close() }()
		go func() {
			defer l.wg.Done()
			defer c.Close()
			buf := make([]byte, 4096)
			for {
				n, err := s.Read(buf)
				if n > 0 && !drop.Load() {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

func (l *lossyLink) lose() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.conns {
		d.Store(true)
	}
}

// go-redis retries a command whose answer timed out (MaxRetries, 3 by
// default), on a new connection, after the first one may have run. The
// store's answers must not change when that happens: a new replay key
// stays new (a genuine call refused as a replay is answered 000001, and
// logged as an attack), a won claim stays won.
func TestAnswersSurviveTheClientsRetry(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ctx := context.Background()
	for _, op := range []string{"add", "claim"} {
		t.Run(op, func(t *testing.T) {
			link := newLossyLink(t, srv.Addr)
			c := redis.NewClient(&redis.Options{Addr: link.ln.Addr().String(), ContextTimeoutEnabled: true,
				DialTimeout: time.Second, ReadTimeout: 300 * time.Millisecond, WriteTimeout: time.Second})
			t.Cleanup(func() { c.Close() })
			s := mustNew(t, c, redisstore.WithPrefix(uniquePrefix(t)))
			// Load the scripts and open a connection, then lose its answers.
			_, err := s.Add(ctx, "warm", time.Minute)
			require.NoError(t, err)
			_, _, err = s.Claim(ctx, "warm", time.Minute)
			require.NoError(t, err)
			link.lose()

			if op == "add" {
				added, err := s.Add(ctx, "nonce", time.Minute)
				require.NoError(t, err)
				assert.True(t, added, "the client's retry of one Add is not a replay")
				added, err = s.Add(ctx, "nonce", time.Minute)
				require.NoError(t, err)
				assert.False(t, added, "a second Add is")
				return
			}
			_, claimed, err := s.Claim(ctx, "order", time.Minute)
			require.NoError(t, err)
			assert.True(t, claimed, "the client's retry of one Claim still wins it")
			_, claimed, err = s.Claim(ctx, "order", time.Minute)
			require.NoError(t, err)
			assert.False(t, claimed, "a second Claim does not")
		})
	}
}
