package kit_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/kit"
)

const accessKey = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17" // the key of the published test vectors

// kitProvider is a kit.Provider whose methods record their requests and
// return err's result.
type kitProvider struct {
	callbacktest.Recorder

	err func(req any) error
}

func (p *kitProvider) result(req any) error {
	p.Record(req)
	if p.err != nil {
		return p.err(req)
	}
	return nil
}

func (p *kitProvider) reset() {
	p.Mu.Lock()
	p.Reqs = p.Reqs[:0]
	p.Mu.Unlock()
}

func (p *kitProvider) TenantSync(_ context.Context, req *kit.TenantSyncRequest) error {
	return p.result(req)
}

func (p *kitProvider) ApplicationSync(_ context.Context, req *kit.ApplicationSyncRequest) error {
	return p.result(req)
}

func (p *kitProvider) AuthSync(_ context.Context, req *kit.AuthSyncRequest) error {
	return p.result(req)
}

func (p *kitProvider) SingleOrgSync(_ context.Context, req *kit.SingleOrgSyncRequest) error {
	return p.result(req)
}

func (p *kitProvider) AllOrgSync(_ context.Context, req *kit.AllOrgSyncRequest) error {
	return p.result(req)
}

type kitEnv struct {
	srv  *httptest.Server
	base string // the production URL KooGallery appends /produceAPI/... to
	v2   *koogallerytest.Sender
	v1   *koogallerytest.V1Sender
	logs *callbacktest.LogBuffer
}

// newKitEnv mounts a kit handler for p on the subtree /isv/produce/ and
// checks, when the test ends, that the key and every secret listed never
// reached the logs.
func newKitEnv(t *testing.T, p kit.Provider, secrets []string, opts ...callback.KitOption) *kitEnv {
	t.Helper()
	logs := &callbacktest.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	mux.Handle("/isv/produce/", kit.NewHandler(accessKey, p, append([]callback.KitOption{callback.WithLogger(logger)}, opts...)...))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		out := logs.String()
		assert.NotContains(t, out, accessKey, "the key leaked into the logs")
		for _, s := range secrets {
			assert.NotContains(t, out, s, "a secret leaked into the logs")
		}
	})
	return &kitEnv{
		srv:  srv,
		base: srv.URL + "/isv/produce",
		v2:   koogallerytest.NewSender(accessKey, koogallerytest.WithHTTPClient(srv.Client())),
		v1:   koogallerytest.NewV1Sender(accessKey, koogallerytest.WithHTTPClient(srv.Client())),
		logs: logs,
	}
}

// useClock makes the env's senders stamp calls from clk; give the handler
// the same clock (callback.WithClock(clk.Now)) when creating the env.
func (e *kitEnv) useClock(clk *koogallerytest.Clock) {
	e.v2 = koogallerytest.NewSender(accessKey, koogallerytest.WithHTTPClient(e.srv.Client()), koogallerytest.WithClock(clk.Now))
	e.v1 = koogallerytest.NewV1Sender(accessKey, koogallerytest.WithHTTPClient(e.srv.Client()), koogallerytest.WithClock(clk.Now))
}

// sendV2 signs body with x-sign and posts it to …/produceAPI/v2/<name>.
func (e *kitEnv) sendV2(t *testing.T, name string, body any, opts ...koogallerytest.CallOption) *koogallerytest.Answer {
	t.Helper()
	call, err := e.v2.SignKit(e.base+"/produceAPI/v2/"+name, body, opts...)
	require.NoError(t, err)
	res, err := call.Send(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/json", res.ContentType)
	return res
}

// sendV1 signs body with the authToken header and posts it to
// …/produceAPI/<name>; the answer's Body-Sign must verify.
func (e *kitEnv) sendV1(t *testing.T, name string, body any, opts ...koogallerytest.V1CallOption) *koogallerytest.V1Answer {
	t.Helper()
	res, err := e.v1.SendKit(context.Background(), e.base+"/produceAPI/"+name, body, opts...)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/json", res.ContentType)
	return res
}

// withoutRaw returns a copy of a recorded kit request with Raw cleared, for
// comparing the typed fields.
func withoutRaw(req any) any {
	switch r := req.(type) {
	case *kit.TenantSyncRequest:
		c := *r
		c.Raw = nil
		return &c
	case *kit.ApplicationSyncRequest:
		c := *r
		c.Raw = nil
		return &c
	case *kit.AuthSyncRequest:
		c := *r
		c.Raw = nil
		return &c
	case *kit.SingleOrgSyncRequest:
		c := *r
		c.Raw = nil
		return &c
	case *kit.AllOrgSyncRequest:
		c := *r
		c.Raw = nil
		return &c
	}
	return req
}

var discard = slog.New(slog.DiscardHandler)

func flip(s string, i int) string { b := []byte(s); b[i] ^= 1; return string(b) }
