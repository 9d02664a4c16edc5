package exchange

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/family"
)

func fam(t *testing.T, name string) *family.Family {
	f, err := family.Lookup(name)
	require.NoError(t, err)
	return f
}

func TestEndpointAppendsTheKitSubPath(t *testing.T) {
	for _, tc := range []struct{ fam, url, want string }{
		{"saas", "https://s.example/isv/produce", "https://s.example/isv/produce"},
		{"kit", "https://s.example/isv/produce/", "https://s.example/isv/produce/produceAPI/v2/tenantSync"},
		{"kit-v1", "https://s.example/isv", "https://s.example/isv/produceAPI/tenantSync"},
		{"kit", "https://s.example/produceAPI/v2/x", "https://s.example/produceAPI/v2/x"},
	} {
		tg, err := NewTarget(fam(t, tc.fam), tc.url, "k", 0, nil)
		require.NoError(t, err)
		assert.Equal(t, tc.want, tg.Endpoint("tenantSync"))
		assert.Equal(t, DefaultTimeout, tg.Timeout)
	}
	_, err := NewTarget(fam(t, "saas"), "/relative", "k", 0, nil)
	assert.EqualError(t, err, "--url must be an absolute http(s) URL, the production URL of the seller console")
}

// A seller whose answers KooGallery cannot read: each problem is named,
// and the key never appears in the exchange or the checks.
func TestResultNamesWhatIsWrongWithAnAnswer(t *testing.T) {
	const key = "exchange-test-key-0001"
	answers := map[string]string{
		"/number":  `{"resultCode":0}`,
		"/none":    `{"resultMsg":"ok"}`,
		"/text":    `ok`,
		"/unknown": `{"resultCode":"999999"}`,
		"/ok":      `{"resultCode":"000000"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(300 * time.Millisecond)
		}
		io.WriteString(w, answers[r.URL.Path])
	}))
	defer srv.Close()
	for path, want := range map[string]string{
		"/number":  "resultCode is 0, not a JSON string",
		"/none":    "the answer has no resultCode",
		"/text":    `the answer is not a JSON object: "ok"`,
		"/unknown": `resultCode "999999" is not one the documentation lists for orderNotify`,
		"/slow":    "no answer within 100ms",
	} {
		tg, err := NewTarget(fam(t, "order"), srv.URL+path, key, 100*time.Millisecond, srv.Client())
		require.NoError(t, err)
		p, err := tg.Prepare("orderNotify", map[string]any{"activity": "orderNotify", "testFlag": "1"}, nil, Genuine)
		require.NoError(t, err)
		x := p.Send(context.Background())
		c := Result(tg, "orderNotify", x, []string{"000000"}, "")
		assert.False(t, c.Pass, path)
		assert.Contains(t, c.Reason, want, path)
		assert.NotEmpty(t, c.Hint, path)
		assert.NotContains(t, x.URL+string(x.Body)+c.Reason+c.Hint, key)
	}
	tg, _ := NewTarget(fam(t, "order"), srv.URL+"/ok", key, time.Second, nil)
	xs, err := SendAll(context.Background(), 3, func() (*Prepared, error) {
		return tg.Prepare("orderNotify", map[string]any{"activity": "orderNotify"}, nil, Unsigned)
	})
	require.NoError(t, err)
	require.Len(t, xs, 3)
	for _, x := range xs {
		assert.True(t, Result(tg, "n", x, []string{"000000"}, "").Pass)
		assert.False(t, strings.Contains(x.URL, "signature="), "unsigned")
	}
}
