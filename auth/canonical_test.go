package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"", ""},
		{"AZaz09-_.~", "AZaz09-_.~"},
		{" ", "%20"},
		{"+", "%2B"},
		{"*", "%2A"},
		{"/", "%2F"},
		{"%", "%25"},
		{"=&?#", "%3D%26%3F%23"},
		{"!'()", "%21%27%28%29"},
		{"é", "%C3%A9"},
		{"\x00\x7f\xff", "%00%7F%FF"},
		// The official SDK's own unit test (signer_test.go).
		{"一 (&=?!#%.*)", "%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"},
		{"/tmp/123", "%2Ftmp%2F123"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, string(appendEscape(nil, c.in)), "escape(%q)", c.in)
	}
	// Every byte: unreserved stays, the rest is %XX upper-case.
	for b := 0; b < 256; b++ {
		got := string(appendEscape(nil, string([]byte{byte(b)})))
		if unreserved[b] {
			assert.Equal(t, string([]byte{byte(b)}), got)
		} else {
			assert.Len(t, got, 3)
			assert.Equal(t, byte('%'), got[0])
			want, err := url.PathUnescape(got)
			require.NoError(t, err)
			assert.Equal(t, string([]byte{byte(b)}), want)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	t.Parallel()
	cases := []struct{ path, want string }{
		{"", "/"},
		{"/", "/"},
		{"/a", "/a/"},
		{"/a/", "/a/"},
		{"//", "//"},
		{"//a//b", "//a//b/"},
		{"/a b+c*~", "/a%20b%2Bc%2A~/"},
		{"/100%", "/100%25/"},
		{"/中文/x", "/%E4%B8%AD%E6%96%87/x/"},
		{"/./..", "/./../"},
		{"/api/mkp-openapi-public/global/v1/order/query", "/api/mkp-openapi-public/global/v1/order/query/"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, string(appendCanonicalURI(nil, c.path)), "path %q", c.path)
	}
}

func TestCanonicalQuery(t *testing.T) {
	t.Parallel()
	cases := []struct{ raw, want string }{
		{"", ""},
		{"a=1", "a=1"},
		{"b=2&a=1", "a=1&b=2"},
		{"a=b+c", "a=b%20c"},   // '+' on the wire is a space
		{"a=b%20c", "a=b%20c"}, // the same value
		{"a=b%2Bc", "a=b%2Bc"}, // a real plus
		{"a=b%2bc", "a=b%2Bc"}, // lower-case hex decodes the same
		{"a=%2Ftmp%2F1", "a=%2Ftmp%2F1"},
		{"a=/tmp/1", "a=%2Ftmp%2F1"},
		{"a=*~", "a=%2A~"},
		{"a=%25", "a=%25"},
		{"a", "a="}, // no '=' is an empty value
		{"a=", "a="},
		{"a=&b", "a=&b="},
		{"a=1&&b=2&", "a=1&b=2"}, // empty pieces vanish
		{"k=3&k=1&k=2", "k=1&k=2&k=3"},
		{"k=b&K=a", "K=a&k=b"}, // byte order: upper-case first
		{"orderLineId=2&orderId=1", "orderId=1&orderLineId=2"},
		{"%E4%B8%80=%E4%B8%80", "%E4%B8%80=%E4%B8%80"},
		{"x=%E4%B8%80%20(%26%3D%3F!%23%25.*)", "x=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"},
		{"a=1=2", "a=1%3D2"},
	}
	for _, c := range cases {
		ps, err := parseQuery(nil, c.raw)
		require.NoError(t, err, c.raw)
		assert.Equal(t, c.want, string(appendCanonicalQuery(nil, ps)), "query %q", c.raw)
	}
	// Many parameters take the non-insertion sort path.
	v := url.Values{}
	for _, k := range []string{"q", "p", "o", "n", "m", "l", "k", "j", "i", "h", "g", "f", "e", "d", "c", "b", "a"} {
		v.Add(k, "2")
		v.Add(k, "1")
	}
	ps, err := parseQuery(nil, v.Encode())
	require.NoError(t, err)
	assert.Equal(t, EncodeQuery(v), string(appendCanonicalQuery(nil, ps)))
	assert.Equal(t, "a=1&a=2&b=1", EncodeQuery(url.Values{"b": {"1"}, "a": {"2", "1"}}))

	for _, bad := range []string{"a=1;b=2", "a=%zz", "%g0=1", "a=%"} {
		_, err := parseQuery(nil, bad)
		assert.Error(t, err, bad)
		assert.NotContains(t, err.Error(), "zz")
	}
}

// TestOfficialUnitTestVectors reproduces the official Go v3 SDK's own
// signer_test.go expectations, which sign only x-sdk-date: the canonical
// core must produce them when given that header set.
func TestOfficialUnitTestVectors(t *testing.T) {
	t.Parallel()
	sign := func(method, rawQuery string, body []byte) string {
		q, err := parseQuery(nil, rawQuery)
		require.NoError(t, err)
		c := canonical{method: method, path: "/path", query: q, headers: []header{{"x-sdk-date", "20060102T150405Z"}}}
		cr, _, _ := c.appendRequest(nil)
		sum := sha256.Sum256(body)
		cr = hex.AppendEncode(cr, sum[:])
		h := sha256.Sum256(cr)
		sts := "SDK-HMAC-SHA256\n20060102T150405Z\n" + hex.EncodeToString(h[:])
		m := hmac.New(sha256.New, []byte("SecretKey"))
		m.Write([]byte(sts))
		return hex.EncodeToString(m.Sum(nil))
	}
	assert.Equal(t, "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624", sign("GET", "limit=1", nil))
	assert.Equal(t, "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59",
		sign("POST", "key=value", []byte("{\"Name\":\"test\",\"Id\":1}\n")))
}

// TestCanonicalQueryFastPath: a query recognised as already canonical is
// exactly what parsing, sorting and escaping it would write.
func TestCanonicalQueryFastPath(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{
		"orderId=MOCK&orderLineId=MOCK-000001": true,
		"a=1":                                  true,
		"a=":                                   true,
		"=x":                                   true,
		"a=1&a=1":                              true,
		"a=1&a=2":                              true,
		"a=2&a=1":                              false,
		"b=1&a=1":                              false,
		"a=2&a-b=1":                            true, // by name, not by the pair's text
		"a-b=1&a=2":                            false,
		"a":                                    false, // canonically "a="
		"a=1&":                                 false,
		"&a=1":                                 false,
		"a=1&&b=2":                             false,
		"a=b=c":                                false,
		"a=%20":                                false,
		"a=+":                                  false,
		"a=*":                                  false,
		"":                                     false,
	} {
		assert.Equal(t, want, isCanonicalQuery(raw), raw)
		if want {
			ps, err := parseQuery(nil, raw)
			require.NoError(t, err)
			assert.Equal(t, raw, string(appendCanonicalQuery(nil, ps)), raw)
		}
	}
}

// FuzzCanonicalQuery: whenever the fast path applies it agrees with the
// full canonicalisation.
func FuzzCanonicalQuery(f *testing.F) {
	for _, s := range []string{"orderId=MOCK&orderLineId=MOCK-000001", "a=2&a-b=1", "a=1&a=1", "=x", "a=b=c", "a&b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !isCanonicalQuery(raw) {
			return
		}
		ps, err := parseQuery(nil, raw)
		if err != nil {
			t.Fatalf("fast path accepted %q, which does not parse: %v", raw, err)
		}
		if got := string(appendCanonicalQuery(nil, ps)); got != raw {
			t.Fatalf("fast path kept %q, canonical form is %q", raw, got)
		}
	})
}

func TestAppendHex32(t *testing.T) {
	t.Parallel()
	for _, seed := range []string{"", "a", "koogallery"} {
		sum := sha256.Sum256([]byte(seed))
		assert.Equal(t, "x"+hex.EncodeToString(sum[:]), string(appendHex32([]byte("x"), &sum)))
	}
	// Every byte value at every position.
	for v := range 256 {
		var sum [sha256.Size]byte
		for i := range sum {
			sum[i] = byte(v + i*37)
		}
		require.Equal(t, hex.EncodeToString(sum[:]), string(appendHex32(nil, &sum)), "from %#x", v)
	}
}
