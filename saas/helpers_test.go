package saas_test

import (
	"context"
	"encoding/json"
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

const accessKey = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17" // spec callbacks.md §9

// provider is a saas.Provider whose methods record their requests and
// return what the test configures.
type provider struct {
	callbacktest.Recorder

	newInstance   func(context.Context, *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error)
	queryInstance func(context.Context, *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error)
	err           func() error // for the four methods that only return an error
}

func (p *provider) plainErr() error {
	if p.err == nil {
		return nil
	}
	return p.err()
}

func (p *provider) NewInstance(ctx context.Context, req *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	cp := *req
	p.Record(&cp)
	if p.newInstance != nil {
		return p.newInstance(ctx, req)
	}
	return &saas.NewInstanceResponse{InstanceID: req.BusinessID}, nil
}

func (p *provider) QueryInstance(ctx context.Context, req *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	p.Record(req)
	if p.queryInstance != nil {
		return p.queryInstance(ctx, req)
	}
	return &saas.QueryInstanceResponse{}, nil
}

func (p *provider) RefreshInstance(_ context.Context, req *saas.RefreshInstanceRequest) error {
	p.Record(req)
	return p.plainErr()
}

func (p *provider) UpdateInstanceStatus(_ context.Context, req *saas.UpdateInstanceStatusRequest) error {
	p.Record(req)
	return p.plainErr()
}

func (p *provider) ReleaseInstance(_ context.Context, req *saas.ReleaseInstanceRequest) error {
	p.Record(req)
	return p.plainErr()
}

func (p *provider) UpgradeInstance(_ context.Context, req *saas.UpgradeInstanceRequest) error {
	p.Record(req)
	return p.plainErr()
}

type env struct {
	srv    *httptest.Server
	url    string
	sender *koogallerytest.Sender
	logs   *callbacktest.LogBuffer
}

// newEnv serves a handler for p under a non-root path and checks, when the
// test ends, that the access key never reached the logs.
func newEnv(t *testing.T, p saas.Provider, opts ...callback.SaaSOption) *env {
	t.Helper()
	logs := &callbacktest.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	mux.Handle("/isv/produce", saas.NewHandler(accessKey, p, append([]callback.SaaSOption{callback.WithLogger(logger)}, opts...)...))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { assert.NotContains(t, logs.String(), accessKey, "the access key leaked into the logs") })
	return &env{
		srv:    srv,
		url:    srv.URL + "/isv/produce",
		sender: koogallerytest.NewSender(accessKey, koogallerytest.WithHTTPClient(srv.Client())),
		logs:   logs,
	}
}

func (e *env) send(t *testing.T, body any, opts ...koogallerytest.CallOption) *koogallerytest.Answer {
	t.Helper()
	res, err := e.sender.Send(context.Background(), e.url, body, opts...)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/json", res.ContentType)
	assert.NotContains(t, string(res.Body), accessKey)
	return res
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
