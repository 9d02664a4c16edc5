package saas_test

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
	"github.com/isvkit/koogallery/saas"
)

// v1Provider is a saas.V1Provider whose methods record their requests and
// return what the test configures.
type v1Provider struct {
	callbacktest.Recorder

	newInstance   func(context.Context, *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error)
	queryInstance func(context.Context, *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error)
	err           func() error // for the methods that only return an error
}

func (p *v1Provider) plainErr() error {
	if p.err == nil {
		return nil
	}
	return p.err()
}

func (p *v1Provider) NewInstance(ctx context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
	cp := *req
	p.Record(&cp)
	if p.newInstance != nil {
		return p.newInstance(ctx, req)
	}
	return &saas.V1NewInstanceResponse{InstanceID: req.BusinessID}, nil
}

func (p *v1Provider) QueryInstance(ctx context.Context, req *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	p.Record(req)
	if p.queryInstance != nil {
		return p.queryInstance(ctx, req)
	}
	return &saas.QueryInstanceResponse{}, nil
}

func (p *v1Provider) RefreshInstance(_ context.Context, req *saas.V1RefreshInstanceRequest) error {
	p.Record(req)
	return p.plainErr()
}

func (p *v1Provider) ExpireInstance(_ context.Context, req *saas.V1ExpireInstanceRequest) error {
	p.Record(req)
	return p.plainErr()
}

func (p *v1Provider) ReleaseInstance(_ context.Context, req *saas.V1ReleaseInstanceRequest) error {
	p.Record(req)
	return p.plainErr()
}

func (p *v1Provider) Upgrade(_ context.Context, req *saas.V1UpgradeRequest) error {
	p.Record(req)
	return p.plainErr()
}

func (p *v1Provider) InstanceStatus(_ context.Context, req *saas.V1InstanceStatusRequest) error {
	p.Record(req)
	return p.plainErr()
}

type v1Env struct {
	srv    *httptest.Server
	url    string
	sender *koogallerytest.V1Sender
	logs   *callbacktest.LogBuffer
}

// newV1Env serves a V1 handler for p under a non-root path and checks, when
// the test ends, that the Key and every secret listed never reached the logs.
func newV1Env(t *testing.T, p saas.V1Provider, secrets []string, opts ...callback.SaaSV1Option) *v1Env {
	t.Helper()
	logs := &callbacktest.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	mux.Handle("/isv/v1", saas.NewV1Handler(accessKey, p, append([]callback.SaaSV1Option{callback.WithLogger(logger)}, opts...)...))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		out := logs.String()
		assert.NotContains(t, out, accessKey, "the Key leaked into the logs")
		for _, s := range secrets {
			assert.NotContains(t, out, s, "a secret leaked into the logs")
		}
	})
	return &v1Env{
		srv:    srv,
		url:    srv.URL + "/isv/v1",
		sender: koogallerytest.NewV1Sender(accessKey, koogallerytest.WithHTTPClient(srv.Client())),
		logs:   logs,
	}
}

// send signs params, sends them and checks the V1 contract: HTTP 200, JSON,
// a Body-Sign over the bytes sent, readable credentials.
func (e *v1Env) send(t *testing.T, params map[string]string, opts ...koogallerytest.V1CallOption) *koogallerytest.V1Answer {
	t.Helper()
	res, err := e.sender.Send(context.Background(), e.url, params, opts...)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/json", res.ContentType)
	assert.NotContains(t, string(res.Body), accessKey)
	return res
}

// withoutParams returns a copy of a recorded V1 request with Params
// cleared, for comparing the typed fields.
func withoutParams(req any) any {
	switch r := req.(type) {
	case *saas.V1NewInstanceRequest:
		c := *r
		c.Params = nil
		return &c
	case *saas.V1RefreshInstanceRequest:
		c := *r
		c.Params = nil
		return &c
	case *saas.V1ExpireInstanceRequest:
		c := *r
		c.Params = nil
		return &c
	case *saas.V1ReleaseInstanceRequest:
		c := *r
		c.Params = nil
		return &c
	case *saas.V1UpgradeRequest:
		c := *r
		c.Params = nil
		return &c
	case *saas.V1InstanceStatusRequest:
		c := *r
		c.Params = nil
		return &c
	}
	return req
}

var discard = slog.New(slog.DiscardHandler)
