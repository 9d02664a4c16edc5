package canonjson

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Spec callbacks.md §9.5 and §9.6.
const (
	v2WireBody  = `{"orderLineId":"CS2611270001ABCDE-000001","activity":"newInstance","testFlag":"0","orderId":"CS2611270001ABCDE","businessId":"2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f","extra":null}`
	v2Canonical = `{"activity":"newInstance","businessId":"2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f","orderId":"CS2611270001ABCDE","orderLineId":"CS2611270001ABCDE-000001","testFlag":"0"}`

	kitWireBody  = `{"tenantId": "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", "instanceId": "inst-0001", "orderId": "CS2611270001ABCDE", "tenantCode": "acme", "name": "ACME Ltd", "domainName": "https://acme.example.com", "flag": 1, "testFlag": 0, "timeStamp": "20261127163000123"}`
	kitCanonical = `{"domainName":"https://acme.example.com","flag":1,"instanceId":"inst-0001","name":"ACME Ltd","orderId":"CS2611270001ABCDE","tenantCode":"acme","tenantId":"b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6","testFlag":0,"timeStamp":"20261127163000123"}`
)

func TestAppend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"spec 9.5 v2 body", v2WireBody, v2Canonical},
		{"spec 9.6 kit body", kitWireBody, kitCanonical},
		{"already canonical", v2Canonical, v2Canonical},
		{"empty object", ` { } `, `{}`},
		{"only nulls", `{"a":null,"b":null}`, `{}`},
		{"nested order and spacing kept compact", `{"b": {"z": 1, "a": [1, 2, {"y": null}]}, "a": "x"}`, `{"a":"x","b":{"z":1,"a":[1,2,{"y":null}]}}`},
		{"number literals as received", `{"n": 1.50, "e": 1E+2, "m": -0}`, `{"e":1E+2,"m":-0,"n":1.50}`},
		{"string escapes as received", `{"s": "a\u00e9\/b \n"}`, `{"s":"a\u00e9\/b \n"}`},
		{"no html escaping", `{"u": "<a href='x'>&amp;</a>"}`, `{"u":"<a href='x'>&amp;</a>"}`},
		{"non-ASCII raw", `{"名": "值", "a": "\u2028"}`, `{"a":"\u2028","名":"值"}`},
		{"duplicate key last wins", `{"a": 1, "b": 2, "a": 3}`, `{"a":3,"b":2}`},
		{"duplicate key last null drops it", `{"a": 1, "a": null}`, `{}`},
		{"escaped key decoded and sorted", `{"\u0062": 1, "a": 2}`, `{"a":2,"b":1}`},
		{"key needing escapes Jackson style", `{"q\"\\\u0001\n": true}`, `{"q\"\\\u0001\n":true}`},
		{"nested null kept", `{"a": {"b": null}}`, `{"a":{"b":null}}`},
		{"byte-wise sort", `{"b":1,"B":2,"_":3,"a":4}`, `{"B":2,"_":3,"a":4,"b":1}`},
		{"many members", `{"k":1,"j":1,"i":1,"h":1,"g":1,"f":1,"e":1,"d":1,"c":1,"b":1,"a":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1,"r":1,"s":1,"t":1,"u":1,"v":1,"w":1,"x":1,"y":1,"z":1}`,
			`{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1,"r":1,"s":1,"t":1,"u":1,"v":1,"w":1,"x":1,"y":1,"z":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Append(nil, []byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	t.Parallel()
	got, err := Append([]byte("prefix:"), []byte(`{"b":1,"a":2}`))
	require.NoError(t, err)
	assert.Equal(t, `prefix:{"a":2,"b":1}`, string(got))
}

func TestAppendQuotedScalars(t *testing.T) {
	t.Parallel()
	got, err := AppendQuotedScalars(nil, []byte(`{"testFlag": 0, "b": true, "n": -1.5e3, "s": "x", "o": {"k": 1}, "z": null}`))
	require.NoError(t, err)
	assert.Equal(t, `{"b":"true","n":"-1.5e3","o":{"k":1},"s":"x","testFlag":"0"}`, string(got))
}

func TestAppendRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", ``, errInvalid},
		{"whitespace", `   `, errInvalid},
		{"array", `[1,2]`, errNotObject},
		{"string", `"x"`, errNotObject},
		{"number", `12`, errNotObject},
		{"null", `null`, errNotObject},
		{"truncated", `{"a":1`, errInvalid},
		{"trailing data", `{"a":1} {"b":2}`, errInvalid},
		{"trailing comma", `{"a":1,}`, errInvalid},
		{"single quotes", `{'a':1}`, errInvalid},
		{"bare key", `{a:1}`, errInvalid},
		{"control char in string", "{\"a\":\"\x01\"}", errInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dst := []byte("keep")
			got, err := Append(dst, []byte(tt.in))
			require.Error(t, err)
			assert.True(t, errors.Is(err, tt.want), "got %v", err)
			assert.Equal(t, "keep", string(got), "dst must be returned unchanged on error")
		})
	}
}

func TestScan(t *testing.T) {
	t.Parallel()
	var keys, values []string
	err := Scan([]byte(` {"a" : "x" , "b":{"c": [1, "}"]},"c":null, "d":-1.5}`), func(k, v []byte) error {
		keys = append(keys, string(k))
		values = append(values, string(v))
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c", "d"}, keys)
	assert.Equal(t, []string{`"x"`, `{"c": [1, "}"]}`, `null`, `-1.5`}, values)

	stop := errors.New("stop")
	calls := 0
	err = Scan([]byte(`{"a":1,"b":2}`), func(_, _ []byte) error { calls++; return stop })
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, calls)
}

// reference canonicalises with encoding/json maps: slow, independent of the
// scanner, and used to cross-check Append in the fuzz target.
func reference(src []byte) (map[string]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(src, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errNotObject
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if string(v) == "null" {
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, err
		}
		out[k] = buf.String()
	}
	return out, nil
}

func checkCanonical(t *testing.T, src []byte) {
	got, err := Append(nil, src)
	want, refErr := reference(src)
	if refErr != nil {
		require.Error(t, err, "reference rejects %q: %v", src, refErr)
		return
	}
	require.NoError(t, err, "reference accepts %q", src)
	require.True(t, json.Valid(got), "output is not valid JSON: %q", got)

	var decoded map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(got, &decoded))
	gotValues := make(map[string]string, len(decoded))
	for k, v := range decoded {
		gotValues[k] = string(v)
	}
	assert.Equal(t, want, gotValues)

	// Keys come out sorted and unique, and the form is a fixed point.
	var keys []string
	require.NoError(t, Scan(got, func(k, _ []byte) error { keys = append(keys, string(k)); return nil }))
	assert.True(t, sort.StringsAreSorted(keys), "keys not sorted: %q", keys)
	again, err := Append(nil, got)
	require.NoError(t, err)
	assert.Equal(t, string(got), string(again), "canonical form is not idempotent")
}

func TestAppendMatchesReference(t *testing.T) {
	t.Parallel()
	for _, in := range []string{v2WireBody, kitWireBody, `{"a":{"b":[{"c":null}]},"b":"\u0000"}`, `{}`, `[]`} {
		checkCanonical(t, []byte(in))
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range []string{
		v2WireBody, kitWireBody, `{}`, `{"a":null}`, `{"a":1,"a":2}`, `{"\u0061":"\ud83d\ude00"}`,
		`{"x": [1, {"y": "z"}], "w": true}`, `[1]`, `"s"`, `{"a":`, "{\"a\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte("{\"0\xc8\":\"\"}"))
	f.Add([]byte("{\"0\xff\":[]}"))
	f.Fuzz(func(t *testing.T, src []byte) {
		checkCanonical(t, src)
		checkRawShortcut(t, src)
		quoted, err := AppendQuotedScalars(nil, src)
		if err == nil {
			assert.True(t, json.Valid(quoted), "quoted form is not valid JSON: %q", quoted)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	for _, bm := range []struct{ name, body string }{{"v2", v2WireBody}, {"kit", kitWireBody}} {
		b.Run(bm.name, func(b *testing.B) {
			src := []byte(bm.body)
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				var err error
				buf, err = Append(buf[:0], src)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// checkRawShortcut checks CanonicalIsRaw, the shortcut the verifiers take
// to skip building the canonical form: it holds exactly when the canonical
// form is the bytes received.
func checkRawShortcut(t *testing.T, src []byte) {
	t.Helper()
	var o Object
	if o.Parse(src) != nil {
		return
	}
	canonical, err := Append(nil, src)
	require.NoError(t, err)
	assert.Equal(t, bytes.Equal(canonical, src), o.CanonicalIsRaw(), "CanonicalIsRaw of %q (canonical %q)", src, canonical)
}

// A key with invalid UTF-8 is written with U+FFFD in the canonical form, so
// that form is not the bytes received: a verifier that took it for them
// refused a body signed over its canonical form (found by saas.FuzzHandler
// and kit.FuzzHandler).
func TestCanonicalIsRawKeys(t *testing.T) {
	for _, src := range []string{`{"a":1}`, `{"a":1,"b":2}`, "{\"0\xc8\":\"\"}", "{\"0\xff\":[]}", `{"\u0061":1}`,
		`{"é":1}`, "{\"a\":\"\xff\"}", `{"b":1,"a":2}`, `{"a":null}`, `{ "a":1}`, `{"a":1,"a":2}`} {
		checkRawShortcut(t, []byte(src))
	}
}

// Sum256 streams the canonical form from pooled state; it must give the very
// sum of Append (the kit V2 done guard's key: records written before an
// upgrade must still be found after it), and of the bytes for what Append
// refuses.
func TestSum256IsTheCanonicalFormsSum(t *testing.T) {
	for _, src := range []string{
		`{"tenantId":"t","flag":1}`, `{ "flag" : 1 , "tenantId" : "t" }`,
		`{"a":null,"b":[1, {"c": "d"}],"e":"\u4e2d\/"}`, "{\"0\xc8\":\"\"}", `{}`,
	} {
		want, err := Append(nil, []byte(src))
		require.NoError(t, err)
		for range 3 { // pooled state reused
			assert.Equal(t, sha256.Sum256(want), Sum256([]byte(src)), "%s", src)
		}
	}
	for _, src := range []string{`[1]`, `{`, ``, `"s"`} {
		assert.Equal(t, sha256.Sum256([]byte(src)), Sum256([]byte(src)), "%q", src)
	}
}
