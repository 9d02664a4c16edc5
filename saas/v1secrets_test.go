package saas_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// Every V1 path that logs (refusals, invalid fields, decryption fallbacks
// and failures, encoding failures, seller errors, replays), at debug level:
// the Key, the decrypted phone and e-mail and the credentials never reach
// the log, and the answers never carry them in clear either.
func TestV1NeverLogsSecrets(t *testing.T) {
	t.Parallel()
	const (
		phone      = "13912345678"
		email      = "vip.buyer@example.com"
		password   = "Initial-Pa55word"
		longSecret = "very-secret-admin-password-that-is-far-too-long-for-koogallery-to-accept-xxxxxxx" // 80 bytes
		wrongPhone = "15500001111"
	)
	require.Len(t, longSecret, 80)
	secrets := []string{accessKey, phone, email, password, longSecret, wrongPhone}

	logs := &callbacktest.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	p := &v1Provider{
		newInstance: func(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
			pw := password
			if req.OrderID == "too-long" {
				pw = longSecret
			}
			return &saas.V1NewInstanceResponse{InstanceID: "i-" + req.OrderID, AppInfo: &saas.AppInfo{FrontEndURL: "https://x", UserName: "admin", Password: pw}}, nil
		},
		queryInstance: func(context.Context, *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
			return nil, errors.New("query failed")
		},
		err: func() error { return errors.New("seller failure") },
	}
	mux := http.NewServeMux()
	mux.Handle("/isv/v1", saas.NewV1Handler(accessKey, p, callback.WithLogger(logger)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	v1 := koogallerytest.NewV1Sender(accessKey, koogallerytest.WithHTTPClient(srv.Client()))

	var bodies []string
	send := func(params map[string]string, opts ...koogallerytest.V1CallOption) string {
		res, err := v1.Send(ctx, srv.URL+"/isv/v1", params, opts...)
		require.NoError(t, err)
		bodies = append(bodies, string(res.Body))
		return res.ResultCode
	}
	aes128Phone, err := saas.EncryptField(accessKey, phone, saas.AES128) // fallback path: warned
	require.NoError(t, err)
	newInstance := map[string]string{"activity": "newInstance", "orderId": "O1", "businessId": "b", "mobilePhone": aes128Phone,
		"email": mustEncrypt(accessKey, email)}
	assert.Equal(t, "000000", send(newInstance))
	assert.Equal(t, "000000", send(newInstance), "replay; QueryInstance fails")
	assert.Equal(t, "000002", send(map[string]string{"activity": "newInstance", "orderId": "O2", "businessId": "b",
		"mobilePhone": mustEncrypt("other-key", wrongPhone)}))
	assert.Equal(t, "000005", send(map[string]string{"activity": "newInstance", "orderId": "too-long", "businessId": "b"}))
	assert.Equal(t, "000005", send(map[string]string{"activity": "expireInstance", "instanceId": "i"}))
	assert.Equal(t, "000001", send(newInstance, koogallerytest.V1ForgedKey("guess")))

	out := logs.String()
	for _, want := range []string{"other AES key size", "invalid mobilePhone", "plaintext must be at most 79 bytes",
		"seller failure", "authToken mismatch", "QueryInstance failed"} {
		assert.Contains(t, out, want, "the path was exercised and logged")
	}
	for _, s := range secrets {
		assert.NotContains(t, out, s, "secret in the log")
		for _, b := range bodies {
			assert.NotContains(t, b, s, "secret in an answer")
		}
	}
	assert.False(t, strings.Contains(out, "Initial-"), "not even part of the password")
}
