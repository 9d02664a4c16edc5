package fieldcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
)

// Keys holds the AES-128 and AES-256 keys KooGallery derives from one seller
// Key, with their expanded cipher blocks. Deriving them costs three SHA-1
// computations and two key expansions, so a handler derives them once per
// seller Key and reuses the value: a *Keys is safe for concurrent use.
//
// Keys never prints its key material: String and GoString are redacted.
// The zero Keys holds no key; always use DeriveKeys.
type Keys struct {
	aes128 cipher.Block
	aes256 cipher.Block
}

// DeriveKeys derives both AES keys from the seller Key the way Huawei's Java
// code does: KeyGenerator("AES").init(bits, SecureRandom("SHA1PRNG") seeded
// with key.getBytes()), i.e. the first 16 or 32 bytes of the SUN SHA1PRNG
// stream seeded with the UTF-8 bytes of key (the field encryption of
// KooGallery's SaaS V1 newInstance page, zh-cn_topic_0070649013, and Huawei's
// EncryptTest demo).
func DeriveKeys(key string) *Keys {
	var stream [32]byte
	sha1PRNG([]byte(key), stream[:])
	k := &Keys{aes128: mustAES(stream[:16]), aes256: mustAES(stream[:])}
	clear(stream[:])
	return k
}

// block returns the cipher for t; t must be valid.
func (k *Keys) block(t EncryptType) cipher.Block {
	if t == AES128 {
		return k.aes128
	}
	return k.aes256
}

// String implements fmt.Stringer without revealing key material.
func (k *Keys) String() string { return "fieldcrypt.Keys{redacted}" }

// GoString implements fmt.GoStringer without revealing key material.
func (k *Keys) GoString() string { return k.String() }

func mustAES(key []byte) cipher.Block {
	b, err := aes.NewCipher(key)
	if err != nil {
		// Unreachable: the key is always 16 or 32 bytes. The message names no
		// key material.
		panic("fieldcrypt: aes key expansion: " + err.Error())
	}
	return b
}

// sha1PRNG fills out with the output of Java's SUN "SHA1PRNG" SecureRandom
// after a single setSeed(seed) and no other input:
//
//	state = SHA1(seed)
//	repeat: block = SHA1(state); emit block; state = state + block + 1
//
// where the addition runs from byte 0 upward in Java's signed-byte
// arithmetic (carry = v >> 8, arithmetic), and if no byte of state changed,
// state[0] is incremented (sun.security.provider.SecureRandom.updateState).
// An unsigned big-integer addition gives different bytes.
func sha1PRNG(seed, out []byte) {
	state := sha1.Sum(seed)
	for len(out) > 0 {
		block := sha1.Sum(state[:])
		updateState(&state, &block)
		out = out[copy(out, block[:]):]
	}
}

func updateState(state, output *[sha1.Size]byte) {
	last := int32(1)
	changed := false
	for i := range state {
		v := int32(int8(state[i])) + int32(int8(output[i])) + last
		t := byte(v)
		changed = changed || state[i] != t
		state[i] = t
		last = v >> 8
	}
	if !changed {
		state[0]++
	}
}
