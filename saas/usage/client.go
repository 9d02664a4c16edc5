package usage

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"log/slog"
	"sync"
	"time"

	"github.com/isvkit/koogallery"
)

// Client calls the SaaS open APIs: the pay-per-use usage push, new and old.
// It is safe for concurrent use.
type Client struct {
	kg  *koogallery.Client
	key *sellerKey
	now func() time.Time
}

// Option configures NewClient.
type Option func(*Client)

// WithSellerKey sets the seller's interconnection key (卖家中心 › 应用工具 ›
// 密钥管理, the key the production interfaces are verified with), which the
// new usage API's body signature is computed with. Push needs it;
// PushLegacy does not. The key never appears in errors or logs.
func WithSellerKey(key string) Option {
	return func(c *Client) {
		if key == "" {
			c.key = nil
			return
		}
		c.key = newSellerKey(key)
	}
}

// WithClock sets the clock the usage push's ts header is taken from
// (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// NewClient returns a SaaS Client using kg's credentials, site and HTTP
// stack.
func NewClient(kg *koogallery.Client, opts ...Option) *Client {
	c := &Client{kg: kg, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// sellerKey computes the usage push's body signature. It is kept behind a
// pointer with redacting String methods, so printing a Client with %+v
// cannot reveal it.
type sellerKey struct {
	macs sync.Pool // of hash.Hash keyed with the seller key
}

func newSellerKey(key string) *sellerKey {
	k := []byte(key)
	return &sellerKey{macs: sync.Pool{New: func() any { return hmac.New(sha256.New, k) }}}
}

// String hides the key.
func (k *sellerKey) String() string { return "[REDACTED]" }

// GoString hides the key.
func (k *sellerKey) GoString() string { return "[REDACTED]" }

// LogValue hides the key from slog.
func (k *sellerKey) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// sign returns base64(HmacSHA256(key, "ts={ts}&nonce={nonce}&body={body)")).
func (k *sellerKey) sign(ts, nonce string, body []byte) string {
	mac := k.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write([]byte("ts="))
	mac.Write([]byte(ts))
	mac.Write([]byte("&nonce="))
	mac.Write([]byte(nonce))
	mac.Write([]byte("&body="))
	mac.Write(body)
	var sum [sha256.Size]byte
	out := base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
	k.macs.Put(mac)
	return out
}

// newNonce returns 32 hex digits from crypto/rand.
func newNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
