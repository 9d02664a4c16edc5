package callback

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/internal/canonjson"
)

// Spec callbacks.md §9 (key), §9.5 (V2) and §9.6 (kit).
const (
	vecKey       = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"
	vecNonce     = "Q7ZP0L3XW9M2K8RT"
	vecTimestamp = "1795768200123"

	v2WireBody   = `{"orderLineId":"CS2611270001ABCDE-000001","activity":"newInstance","testFlag":"0","orderId":"CS2611270001ABCDE","businessId":"2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f","extra":null}`
	v2Canonical  = `{"activity":"newInstance","businessId":"2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f","orderId":"CS2611270001ABCDE","orderLineId":"CS2611270001ABCDE-000001","testFlag":"0"}`
	v2Signature  = "8D8C154D240D3D72DBC0EEEFC70C12D78E81995D3245BFEC64EEAA771258D318"
	kitWireBody  = `{"tenantId": "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", "instanceId": "inst-0001", "orderId": "CS2611270001ABCDE", "tenantCode": "acme", "name": "ACME Ltd", "domainName": "https://acme.example.com", "flag": 1, "testFlag": 0, "timeStamp": "20261127163000123"}`
	kitCanonical = `{"domainName":"https://acme.example.com","flag":1,"instanceId":"inst-0001","name":"ACME Ltd","orderId":"CS2611270001ABCDE","tenantCode":"acme","tenantId":"b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6","testFlag":0,"timeStamp":"20261127163000123"}`
	kitSignature = "3aa8d2269516e2ae502a9fd2c814397fabd5fc16554dbb73b5998c86e37fab3b"
)

func TestSpecVectors(t *testing.T) {
	t.Parallel()
	k := NewKey(vecKey)

	assert.Equal(t, v2Signature, k.SignV2(vecNonce, vecTimestamp, []byte(v2Canonical)), "§9.5 signs back")
	assert.Equal(t, kitSignature, k.SignKit(vecNonce, vecTimestamp, []byte(kitCanonical)), "§9.6 signs back")

	for _, body := range []string{v2WireBody, v2Canonical} {
		for _, sig := range []string{v2Signature, strings.ToLower(v2Signature)} {
			assert.True(t, k.VerifyV2(sig, vecNonce, vecTimestamp, []byte(body)), "§9.5 body %.20q sig %.8s", body, sig)
		}
	}
	for _, body := range []string{kitWireBody, kitCanonical} {
		for _, sig := range []string{kitSignature, strings.ToUpper(kitSignature)} {
			assert.True(t, k.VerifyKit(sig, vecNonce, vecTimestamp, []byte(body)), "§9.6 body %.20q sig %.8s", body, sig)
		}
	}
	// The schemes are not interchangeable.
	assert.False(t, k.VerifyKit(v2Signature, vecNonce, vecTimestamp, []byte(v2Canonical)))
	assert.False(t, k.VerifyV2(kitSignature, vecNonce, vecTimestamp, []byte(kitCanonical)))
}

// flipped returns s with byte i XOR 0x01. For hex digits this always changes
// the value or makes the digit invalid, never just its case.
func flipped(s string, i int) string {
	b := []byte(s)
	b[i] ^= 0x01
	return string(b)
}

func TestVerifyRefusesEveryChangedByte(t *testing.T) {
	t.Parallel()
	type input struct {
		name                    string
		key, sig, nonce, ts, bd string
	}
	for _, sc := range []struct {
		name   string
		verify func(k *Key, sig, nonce, ts string, body []byte) bool
		base   input
	}{
		{"v2", (*Key).VerifyV2, input{key: vecKey, sig: v2Signature, nonce: vecNonce, ts: vecTimestamp, bd: v2Canonical}},
		{"kit", (*Key).VerifyKit, input{key: vecKey, sig: kitSignature, nonce: vecNonce, ts: vecTimestamp, bd: kitCanonical}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			b := sc.base
			require.True(t, sc.verify(NewKey(b.key), b.sig, b.nonce, b.ts, []byte(b.bd)), "baseline must verify")
			fields := []struct {
				name string
				ptr  func(*input) *string
			}{
				{"key", func(in *input) *string { return &in.key }},
				{"signature", func(in *input) *string { return &in.sig }},
				{"nonce", func(in *input) *string { return &in.nonce }},
				{"timestamp", func(in *input) *string { return &in.ts }},
				{"body", func(in *input) *string { return &in.bd }},
			}
			for _, f := range fields {
				for i := range len(*f.ptr(&b)) {
					in := b
					p := f.ptr(&in)
					*p = flipped(*p, i)
					assert.False(t, sc.verify(NewKey(in.key), in.sig, in.nonce, in.ts, []byte(in.bd)),
						"%s byte %d changed (%q) still verifies", f.name, i, *p)
				}
			}
		})
	}
}

// The §9.5 wire body carries "extra":null, which is not part of the signed
// payload: changing a byte of that member's name leaves the canonical form,
// and so the signature, unchanged, and the request means the same (null is
// absent). Every other changed byte is refused.
func TestVerifyV2WireBodyChanges(t *testing.T) {
	t.Parallel()
	k := NewKey(vecKey)
	want, err := canonjson.Append(nil, []byte(v2WireBody))
	require.NoError(t, err)
	for i := range len(v2WireBody) {
		body := flipped(v2WireBody, i)
		got, err := canonjson.Append(nil, []byte(body))
		same := err == nil && string(got) == string(want)
		assert.Equal(t, same, k.VerifyV2(v2Signature, vecNonce, vecTimestamp, []byte(body)), "byte %d: %s", i, body)
		if same {
			assert.Contains(t, []string{"e", "x", "t", "r", "a"}, string(v2WireBody[i]), "only the null member's name may change")
		}
	}
}

func TestVerifyV2QuotedScalars(t *testing.T) {
	t.Parallel()
	// The demo binds the basic interface's body to Map<String,String>, so a
	// number would have been signed as a string (spec §3.7).
	k := NewKey(vecKey)
	body := []byte(`{"activity":"orderNotify","orderId":"O1","orderLineId":"O1-1","testFlag":1}`)
	signedForm := []byte(`{"activity":"orderNotify","orderId":"O1","orderLineId":"O1-1","testFlag":"1"}`)
	sig := k.SignV2("n", "1", signedForm)
	assert.True(t, k.VerifyV2(sig, "n", "1", body))
	assert.False(t, k.VerifyV2(sig, "n", "1", []byte(`{"activity":"orderNotify","orderId":"O1","orderLineId":"O1-1","testFlag":2}`)))
}

func TestVerifyMalformedSignature(t *testing.T) {
	t.Parallel()
	k := NewKey(vecKey)
	for _, sig := range []string{"", "00", v2Signature[:63], v2Signature + "0", "G" + v2Signature[1:], " " + v2Signature[1:]} {
		assert.False(t, k.VerifyV2(sig, vecNonce, vecTimestamp, []byte(v2Canonical)), "%q", sig)
		assert.False(t, k.VerifyKit(sig, vecNonce, vecTimestamp, []byte(kitCanonical)), "%q", sig)
	}
	for _, body := range []string{"", "null", "[", "{", `{"a":1}x`} {
		assert.False(t, k.VerifyV2(v2Signature, vecNonce, vecTimestamp, []byte(body)), "%q", body)
		assert.False(t, k.VerifyKit(kitSignature, vecNonce, vecTimestamp, []byte(body)), "%q", body)
	}
}

// decodeHex32 agrees with encoding/hex for every byte value at every
// position, as a high and as a low digit.
func TestDecodeHex32(t *testing.T) {
	t.Parallel()
	for i := range 2 * sha256.Size {
		for c := range 256 {
			s := []byte(strings.Repeat("aB", sha256.Size))
			s[i] = byte(c)
			want, err := hex.DecodeString(string(s))
			var got [sha256.Size]byte
			ok := decodeHex32(&got, string(s))
			require.Equal(t, err == nil, ok, "%q", s)
			if ok {
				require.Equal(t, want, got[:], "%q", s)
			}
		}
	}
}

func TestKeyNeverPrintsSecret(t *testing.T) {
	t.Parallel()
	k := NewKey(vecKey)
	var sb strings.Builder
	logger := slog.New(slog.NewJSONHandler(&sb, nil))
	logger.Info("key", "k", k)
	out := fmt.Sprintf("%v %+v %s", k, k, k) + sb.String()
	assert.NotContains(t, out, vecKey)
	assert.Contains(t, out, "[REDACTED]")
}

func TestKeyConcurrentUse(t *testing.T) {
	t.Parallel()
	k := NewKey(vecKey)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				assert.True(t, k.VerifyV2(v2Signature, vecNonce, vecTimestamp, []byte(v2WireBody)))
				assert.True(t, k.VerifyKit(kitSignature, vecNonce, vecTimestamp, []byte(kitWireBody)))
			}
		}()
	}
	wg.Wait()
}

func FuzzVerifyV2(f *testing.F) {
	f.Add(v2Signature, vecNonce, vecTimestamp, []byte(v2WireBody))
	f.Add(strings.ToLower(v2Signature), "", "0", []byte(`{}`))
	f.Add("zz", "n", "x", []byte(`[`))
	k := NewKey(vecKey)
	f.Fuzz(func(t *testing.T, sig, nonce, ts string, body []byte) {
		_ = k.VerifyV2(sig, nonce, ts, body) // must not panic
		_ = k.VerifyKit(sig, nonce, ts, body)
		payload, err := canonjson.Append(nil, body)
		if err != nil {
			payload = body
		}
		assert.True(t, k.VerifyV2(k.SignV2(nonce, ts, payload), nonce, ts, body), "signed V2 call must verify")
		assert.True(t, k.VerifyKit(k.SignKit(nonce, ts, payload), nonce, ts, body), "signed kit call must verify")
	})
}

func BenchmarkVerifyV2(b *testing.B) {
	k := NewKey(vecKey)
	for _, bm := range []struct{ name, body string }{{"canonical", v2Canonical}, {"wire", v2WireBody}} {
		b.Run(bm.name, func(b *testing.B) {
			body := []byte(bm.body)
			b.ReportAllocs()
			for b.Loop() {
				if !k.VerifyV2(v2Signature, vecNonce, vecTimestamp, body) {
					b.Fatal("no match")
				}
			}
		})
	}
}

// Huawei's demo re-serialises the body with Jackson before hashing, so a
// body with escapes is signed over their decoded form; each form a sender
// may have signed verifies, and only those.
func TestVerifyJacksonForms(t *testing.T) {
	t.Parallel()
	k := NewKey(vecKey)
	const n, ts = "N1", vecTimestamp
	v2 := []struct{ name, body, signed string }{
		{"unsorted with \\u escapes", `{"orderId":"CS1","activity":"newInstance","customerName":"\u4e2d\u6587","testFlag":"0"}`,
			`{"activity":"newInstance","customerName":"中文","orderId":"CS1","testFlag":"0"}`},
		{"sorted and compact with \\u escapes", `{"activity":"newInstance","customerName":"\u4e2d\u6587","orderId":"CS1","testFlag":"0"}`,
			`{"activity":"newInstance","customerName":"中文","orderId":"CS1","testFlag":"0"}`},
		{"\\/ in a value", `{"frontEndUrl":"https:\/\/x.example.com\/a","activity":"queryInstance"}`,
			`{"activity":"queryInstance","frontEndUrl":"https://x.example.com/a"}`},
		{"surrogate pair", `{"activity":"x","e":"\ud83d\ude00"}`, `{"activity":"x","e":"😀"}`},
		{"control escapes re-escaped Jackson's way", `{"c":"\u0001\/\n"}`, `{"c":"\u0001/\n"}`},
		{"scalars quoted", `{"testFlag":0,"activity":"x\u0041"}`, `{"activity":"xA","testFlag":"0"}`},
	}
	for _, tc := range v2 {
		assert.True(t, k.VerifyV2(k.SignV2(n, ts, []byte(tc.signed)), n, ts, []byte(tc.body)), "V2 %s: Jackson form", tc.name)
		assert.True(t, k.VerifyV2(k.SignV2(n, ts, []byte(tc.body)), n, ts, []byte(tc.body)), "V2 %s: raw bytes", tc.name)
		canon, err := canonjson.Append(nil, []byte(tc.body))
		require.NoError(t, err)
		assert.True(t, k.VerifyV2(k.SignV2(n, ts, canon), n, ts, []byte(tc.body)), "V2 %s: canonical form", tc.name)
		assert.False(t, k.VerifyV2(k.SignV2(n, ts, []byte(tc.signed+" ")), n, ts, []byte(tc.body)), "V2 %s: another payload", tc.name)
	}
	kit := []struct{ name, body, signed string }{
		{"1e2 becomes 100.0", `{"tenantId": "t", "flag": 1, "n": 1e2}`, `{"flag":1,"n":100.0,"tenantId":"t"}`},
		{"-0 becomes 0, escapes decoded", `{"b": "\u4e2d", "a": -0, "c": [1E-7, {"z": "\/"}]}`, `{"a":0,"b":"中","c":[1.0E-7,{"z":"/"}]}`},
		{"big integer kept", `{"n": 123456789012345678901234567890}`, `{"n":123456789012345678901234567890}`},
		{"negative zero double", `{"n": -0.0}`, `{"n":-0.0}`},
	}
	for _, tc := range kit {
		assert.True(t, k.VerifyKit(k.SignKit(n, ts, []byte(tc.signed)), n, ts, []byte(tc.body)), "kit %s: Jackson form", tc.name)
		assert.True(t, k.VerifyKit(k.SignKit(n, ts, []byte(tc.body)), n, ts, []byte(tc.body)), "kit %s: raw bytes", tc.name)
		canon, err := canonjson.Append(nil, []byte(tc.body))
		require.NoError(t, err)
		assert.True(t, k.VerifyKit(k.SignKit(n, ts, canon), n, ts, []byte(tc.body)), "kit %s: canonical form", tc.name)
		assert.False(t, k.VerifyKit(k.SignKit(n, ts, []byte(tc.signed+" ")), n, ts, []byte(tc.body)), "kit %s: another payload", tc.name)
	}
	// A lone surrogate has no Jackson form (Jackson would sign '?').
	lone := `{"e":"\ud83d"}`
	assert.False(t, k.VerifyV2(k.SignV2(n, ts, []byte(`{"e":"?"}`)), n, ts, []byte(lone)))
	assert.True(t, k.VerifyV2(k.SignV2(n, ts, []byte(lone)), n, ts, []byte(lone)))
}
