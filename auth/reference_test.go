package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// refEscape is the spec's escape function written the obvious way.
func refEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// refAuthorization recomputes, independently of package auth and following
// the pseudocode of signing.md §1.9, the Authorization value a gateway expects
// for a request as Go's server decoded it (r.URL.Path, r.URL.Query()).
func refAuthorization(t testing.TB, r *http.Request, ak, sk string, signed []string) string {
	t.Helper()
	segs := strings.Split(r.URL.Path, "/")
	for i, s := range segs {
		segs[i] = refEscape(s)
	}
	uri := strings.Join(segs, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			pairs = append(pairs, refEscape(k)+"="+refEscape(v))
		}
	}
	var hdrs strings.Builder
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		hdrs.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	body, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	bh := sha256.Sum256(body)
	cr := strings.Join([]string{r.Method, uri, strings.Join(pairs, "&"), hdrs.String(), strings.Join(signed, ";"), hex.EncodeToString(bh[:])}, "\n")
	crh := sha256.Sum256([]byte(cr))
	sts := "SDK-HMAC-SHA256\n" + r.Header.Get("X-Sdk-Date") + "\n" + hex.EncodeToString(crh[:])
	m := hmac.New(sha256.New, []byte(sk))
	m.Write([]byte(sts))
	return "SDK-HMAC-SHA256 Access=" + ak + ", SignedHeaders=" + strings.Join(signed, ";") + ", Signature=" + hex.EncodeToString(m.Sum(nil))
}
