package kit_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
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

// Every kit path that logs clientSecret failures, at debug level: the key
// and the clientSecret never reach the log, and the answers never carry
// them either.
func TestNeverLogsSecrets(t *testing.T) {
	t.Parallel()
	const secret = "client-secret-0xdeadbeef"
	secrets := []string{accessKey, secret}

	logs := &callbacktest.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	key := testKitKey(t)

	p := &kitProvider{}
	mux := http.NewServeMux()
	mux.Handle("/isv/produce/", kit.NewHandler(accessKey, p, callback.WithLogger(logger), kit.WithPrivateKey(key)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	v1 := koogallerytest.NewV1Sender(accessKey, koogallerytest.WithHTTPClient(srv.Client()))
	v2 := koogallerytest.NewSender(accessKey, koogallerytest.WithHTTPClient(srv.Client()))

	var bodies []string
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &key.PublicKey, []byte(secret), nil)
	require.NoError(t, err)
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	foreign, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &other.PublicKey, []byte(secret), nil)
	require.NoError(t, err)
	for _, c := range []struct {
		secret string
		flag   int
		code   string
	}{
		{base64.StdEncoding.EncodeToString(ct), 1, "000000"},
		{base64.StdEncoding.EncodeToString(foreign), 1, "000002"},
		{base64.StdEncoding.EncodeToString(foreign), 0, "000000"},
	} {
		body := map[string]any{"tenantId": "t", "appId": "a", "clientId": "c", "clientSecret": c.secret, "flag": c.flag}
		r1, err := v1.SendKit(ctx, srv.URL+"/isv/produce/produceAPI/applicationSync", body)
		require.NoError(t, err)
		call, err := v2.SignKit(srv.URL+"/isv/produce/produceAPI/v2/applicationSync", body)
		require.NoError(t, err)
		r2, err := call.Send(ctx)
		require.NoError(t, err)
		assert.Equal(t, c.code, r1.ResultCode)
		assert.Equal(t, c.code, r2.ResultCode)
		bodies = append(bodies, string(r1.Body), string(r2.Body))
	}
	p.Mu.Lock()
	first := callbacktest.As[*kit.ApplicationSyncRequest](t, p.Reqs[0])
	p.Mu.Unlock()
	assert.Equal(t, secret, first.ClientSecret, "decrypted for the seller")

	out := logs.String()
	for _, want := range []string{"clientSecret cannot be decrypted", "clientSecret of a delete"} {
		assert.Contains(t, out, want, "the path was exercised and logged")
	}
	for _, s := range secrets {
		assert.NotContains(t, out, s, "secret in the log")
		for _, b := range bodies {
			assert.NotContains(t, b, s, "secret in an answer")
		}
	}
}
