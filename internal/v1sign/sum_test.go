package v1sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// sum is RFC 2104 HMAC-SHA256, as crypto/hmac computes it, for keys shorter
// than, equal to and longer than the block (which HMAC hashes first), split
// anywhere between prefix and suffix, and for messages of every length
// around the block size.
func TestSumIsHMAC(t *testing.T) {
	for _, keyLen := range []int{0, 1, 17, 63, 64, 65, 100, 200} {
		key := strings.Repeat("k\x00\xff", keyLen)[:keyLen]
		for split := 0; split <= keyLen; split += max(1, keyLen/4) {
			for _, msgLen := range []int{0, 1, 55, 56, 63, 64, 65, 1000} {
				msg := []byte(strings.Repeat("m\x80", msgLen)[:msgLen])
				h := hmac.New(sha256.New, []byte(key))
				h.Write(msg)
				got := sum(key[:split], key[split:], msg)
				assert.Equal(t, h.Sum(nil), got[:], "key %d split %d msg %d", keyLen, split, msgLen)
			}
		}
	}
}

func FuzzSumIsHMAC(f *testing.F) {
	f.Add("key", "20261127083000123", []byte("a=b&c=d"))
	f.Add(strings.Repeat("x", 70), "", []byte{})
	f.Fuzz(func(t *testing.T, prefix, suffix string, msg []byte) {
		h := hmac.New(sha256.New, []byte(prefix+suffix))
		h.Write(msg)
		got := sum(prefix, suffix, msg)
		if !hmac.Equal(h.Sum(nil), got[:]) {
			t.Fatalf("sum(%q, %q, %q) is not the HMAC", prefix, suffix, msg)
		}
	})
}

// Values shares one backing array between the names; appending to one
// name's values never changes another's.
func TestValuesAppendDoesNotOverwrite(t *testing.T) {
	q, err := ParseQuery("a=1&b=2&c=3")
	if err != nil {
		t.Fatal(err)
	}
	v := q.Values()
	v["a"] = append(v["a"], "x")
	v.Add("b", "y")
	assert.Equal(t, []string{"1", "x"}, v["a"])
	assert.Equal(t, []string{"2", "y"}, v["b"])
	assert.Equal(t, []string{"3"}, v["c"])
}
