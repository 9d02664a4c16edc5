package callback

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

const (
	// Window is how far a V2-style callback's timestamp may lie from the
	// receiver's clock, in either direction, before the skew allowance: the
	// docs say "相差不超过60s" (KooGallery's V2 signature page, zh-cn_topic_0070649476). The official demo
	// checks only the past side; a timestamp far in the future is just as
	// suspect, so both are checked.
	Window = 60 * time.Second

	// DefaultSkew is the default allowance for clock skew on top of Window.
	DefaultSkew = 5 * time.Second

	// DefaultReplayCacheSize bounds the nonces remembered per handler. Only
	// verified callbacks are remembered, so the bound only has to cover
	// KooGallery's own rate over Window+skew: 65,536 entries cover more than
	// 1,000 callbacks a second, in a few MiB at most (about 100 bytes an
	// entry). A full cache refuses new calls with 000005 rather than forget.
	DefaultReplayCacheSize = 1 << 16

	maxNonceLen = 256
)

// parseMillis parses a Unix time in milliseconds written canonically:
// decimal digits without a leading zero, 1 to 18 of them (KooGallery sends
// 13; 18 keeps the value far from int64 overflow). The canonical form is
// the only one accepted because the signature covers the timestamp's text,
// not its value: "0" + timestamp names the same instant, and moving the
// trailing zeros of a nonce to the front of the timestamp would keep the
// signed string, and so the signature, unchanged.
func parseMillis(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// replayKey is the replay cache's key for a verified call: exactly the
// nonce and timestamp text the signature covers, concatenated as signed, so
// that no other split of the same signed string is a new key, after a
// prefix naming the scheme. store.ReplayCache keys are printable ASCII: a
// signed string that is not (the nonce is the sender's choice) is replaced
// by its SHA-256, under another prefix.
func replayKey(scheme Scheme, nonce, timestamp string) string {
	prefix := "v2:"
	if scheme == SchemeKit {
		prefix = "kit:"
	}
	if printable(nonce) {
		return prefix + nonce + timestamp
	}
	h := sha256.New()
	h.Write([]byte(nonce))
	h.Write([]byte(timestamp))
	var sum [sha256.Size]byte
	return prefix + "#" + hex.EncodeToString(h.Sum(sum[:0]))
}

// printable reports whether s is printable ASCII other than '#', which
// marks a hashed key.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '#' {
			return false
		}
	}
	return true
}

// fresh reports whether a callback stamped ts (Unix ms) is acceptable at
// now (Unix ms) with the given allowance: |now − ts| ≤ Window + skew.
func fresh(ts, now int64, skew time.Duration) bool {
	limit := (Window + skew).Milliseconds()
	d := now - ts
	return -limit <= d && d <= limit
}

// nonceExpiry is the instant (Unix ms) until which a callback stamped ts
// must be remembered: the last instant at which fresh still accepts it.
// One millisecond later fresh refuses the timestamp, so forgetting the
// nonce then opens no replay gap.
func nonceExpiry(ts int64, skew time.Duration) int64 {
	return ts + (Window + skew).Milliseconds()
}
