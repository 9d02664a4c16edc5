package fieldcrypt

import (
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

const specKey = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"

// prngVectors are spec §9.1 and §9.8: Java SHA1PRNG seeded with the key,
// first 16 and first 32 bytes.
var prngVectors = []struct{ key, first16, first32 string }{
	{specKey, "cf87dd98aa5c47c94d94436d1425fb0d", "cf87dd98aa5c47c94d94436d1425fb0dcd59886dd40865b433f04e44edeb71b4"},
	{"6513270e-269e-0d37-f2a7-4de452e6b438", "58a6625495402832fd1b85cec00660dd", "58a6625495402832fd1b85cec00660dd0b41ab82d0b0e24dae7824f5d2998f43"},
	{"e0IgxLd", "e8af9393ea0ad894ee50496b3be2a68d", "e8af9393ea0ad894ee50496b3be2a68d770bfd1118842405e3b866a385b33639"},
	{"099950d8-36f6-75cc-81e7-4ef5e8e25d94", "707288b8434f9e67e82b1c2518e91270", "707288b8434f9e67e82b1c2518e91270bd9977b74491f53d78cb42f29bbecc27"},
	{"BAepfJBd0Kh8", "b3a96da4db3c465e4a4249c42abbfd51", "b3a96da4db3c465e4a4249c42abbfd516a71c3497e0f45333a49919f4e5dc462"},
	{"953f48f1-a09f-76b5-a170-b33839263059", "8ccf77f2648c940ab41603c5676b68ce", "8ccf77f2648c940ab41603c5676b68ce100f9c4f025ca8cf6f9338d60e88e3ab"},
}

func TestSHA1PRNGJavaVectors(t *testing.T) {
	t.Parallel()
	for _, v := range prngVectors {
		t.Run(v.key, func(t *testing.T) {
			t.Parallel()
			var k128 [16]byte
			var k256 [32]byte
			sha1PRNG([]byte(v.key), k128[:])
			sha1PRNG([]byte(v.key), k256[:])
			assert.Equal(t, v.first16, hex.EncodeToString(k128[:]), "AES-128 key")
			assert.Equal(t, v.first32, hex.EncodeToString(k256[:]), "AES-256 key")
		})
	}
}

// TestSHA1PRNGSignedCarry pins the signed-byte addition of updateState: an
// unsigned big-integer S0+O1+1 differs from Java's for every vector.
func TestSHA1PRNGSignedCarry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		state, output, want [20]byte
	}{
		// 0x7f+0x7f+1 = 255: byte 0xff, carry 0, then 0x7f+0x7f = 0xfe.
		{name: "positive sum", state: fill(0x7f), output: fill(0x7f), want: with(fill(0xfe), 0xff)},
		// int8(0xff)+int8(0x01)+1 = 1: byte 0x01, carry 0, then -1+1 = 0.
		// An unsigned addition would carry 1 and give 0x01 everywhere.
		{name: "signed minus one", state: fill(0xff), output: fill(0x01), want: with(fill(0x00), 0x01)},
		// -128-128+1 = -255: byte 0x01, carry -1 (arithmetic shift); then
		// -128-128-1 = -257: byte 0xff, carry -2; then -258: 0xfe, carry -2.
		{name: "negative carry", state: fill(0x80), output: fill(0x80), want: with(fill(0xfe), 0x01, 0xff)},
		// Every byte keeps its value (output cancels the carry), so Java bumps
		// state[0].
		{name: "unchanged bumps first byte", state: fill(0x80), output: with(fill(0x01), 0xff), want: with(fill(0x80), 0x81)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			state, output := tc.state, tc.output
			updateState(&state, &output)
			assert.Equal(t, tc.want, state)
		})
	}
}

func fill(b byte) (a [20]byte) {
	for i := range a {
		a[i] = b
	}
	return a
}

// with overwrites the first bytes of a.
func with(a [20]byte, first ...byte) [20]byte {
	copy(a[:], first)
	return a
}

// TestSHA1PRNGPrefixStable checks that a longer output extends a shorter
// one, as Java's nextBytes on a fresh generator does.
func TestSHA1PRNGPrefixStable(t *testing.T) {
	t.Parallel()
	long := make([]byte, 100)
	sha1PRNG([]byte("seed"), long)
	for _, n := range []int{0, 1, 19, 20, 21, 40, 41, 99} {
		short := make([]byte, n)
		sha1PRNG([]byte("seed"), short)
		assert.Equal(t, long[:n], short, "n=%d", n)
	}
}

func TestKeysRedacted(t *testing.T) {
	t.Parallel()
	k := DeriveKeys(specKey)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, k)
		assert.Equal(t, "fieldcrypt.Keys{redacted}", out, format)
	}
}

// TestKeysConcurrentUse shares one *Keys across goroutines, as a handler
// does; run with -race.
func TestKeysConcurrentUse(t *testing.T) {
	t.Parallel()
	keys := DeriveKeys(specKey)
	done := make(chan error, 8)
	for g := range 8 {
		go func() {
			et := []EncryptType{AES128, AES256}[g%2]
			for range 50 {
				wire, err := keys.Encrypt(nil, et, "concurrent")
				if err == nil {
					var pt string
					pt, err = keys.Decrypt(et, wire)
					if err == nil && pt != "concurrent" {
						err = fmt.Errorf("got %q", pt)
					}
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		assert.NoError(t, <-done)
	}
}
