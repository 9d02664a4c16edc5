package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/saas/kit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"

	callbackcmd "github.com/isvkit/koogallery/cmd/kgctl/internal/cmd/callback"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"

	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
)

const (
	testAccessKey = "probe-test-access-key-0001"
	testV1Key     = "probe-test-v1-key-0001"
	testKitKey    = "probe-test-kit-key-0001"
)

var allKeys = []string{testAccessKey, testV1Key, testKitKey}

var keyEnv = []string{
	cmdutil.EnvAccessKey + "=" + testAccessKey,
	cmdutil.EnvV1Key + "=" + testV1Key,
	cmdutil.EnvKitKey + "=" + testKitKey,
}

type probeJSON struct {
	Family string           `json:"family"`
	Passed bool             `json:"passed"`
	Failed int              `json:"failed"`
	Checks []exchange.Check `json:"checks"`
}

// TestProbePassesAgainstTheSellerServer runs the example seller server as a
// process, probes every family, and stops it with SIGTERM.
func TestProbePassesAgainstTheSellerServer(t *testing.T) {
	t.Parallel()
	srv := start(t, sellerBin, keyEnv, "--addr", "127.0.0.1:0")
	addr := srv.waitLine(t, regexp.MustCompile(`"msg":"seller-server: listening","addr":"([^"]+)"`))[1]
	base := "http://" + addr
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "ok\n", string(body))

	for fam, path := range map[string]string{"saas": "/isv/produce", "saas-v1": "/isv/v1", "kit": "/isv/produce",
		"kit-v1": "/isv/produce", "license": "/isv/license", "order": "/isv/order"} {
		r := kgctl(t, keyEnv, "", allKeys, "probe", "--family", fam, "--url", base+path)
		require.Equal(t, 0, r.code, "%s: %s", fam, r)
		assert.Contains(t, r.stdout, " 0 failed", fam)
		assert.NotContains(t, r.stdout, "FAIL", fam)
	}
	r := kgctl(t, keyEnv, "", allKeys, "probe", "--family", "saas", "--url", base+"/isv/produce", "--json")
	require.Equal(t, 0, r.code, r)
	var out probeJSON
	decodeJSON(t, r.stdout, &out)
	assert.True(t, out.Passed)
	assert.GreaterOrEqual(t, len(out.Checks), 15)

	require.NoError(t, srv.stop(t, syscall.SIGTERM), "graceful shutdown exits 0")
	assert.Contains(t, srv.outText(), "seller-server: stopped")
	for _, k := range allKeys {
		assert.NotContains(t, srv.outText()+srv.errText(), k, "the server logged a key")
	}
}

// memProvider is a correct V2 provider for the broken sellers built on the
// SDK's handler.
type memProvider struct {
	mu  sync.Mutex
	got []string
}

func (p *memProvider) note(s string) { p.mu.Lock(); p.got = append(p.got, s); p.mu.Unlock() }
func (p *memProvider) NewInstance(_ context.Context, r *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	return &saas.NewInstanceResponse{InstanceID: "i-" + r.OrderID}, nil
}
func (p *memProvider) QueryInstance(_ context.Context, r *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	var resp saas.QueryInstanceResponse
	for _, id := range r.InstanceIDs {
		resp.Info = append(resp.Info, saas.InstanceInfo{InstanceID: id, AppInfo: &saas.AppInfo{FrontEndURL: "https://x.example/" + id, UserName: "admin", Password: "pw"}})
	}
	return &resp, nil
}
func (p *memProvider) RefreshInstance(context.Context, *saas.RefreshInstanceRequest) error {
	return nil
}
func (p *memProvider) UpdateInstanceStatus(_ context.Context, r *saas.UpdateInstanceStatusRequest) error {
	p.note("status " + r.InstanceID + " " + string(r.Status))
	return nil
}
func (p *memProvider) ReleaseInstance(context.Context, *saas.ReleaseInstanceRequest) error {
	return nil
}
func (p *memProvider) UpgradeInstance(context.Context, *saas.UpgradeInstanceRequest) error {
	return nil
}

type v1Mem struct{ *memProvider }

func (p v1Mem) NewInstance(_ context.Context, r *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
	return &saas.V1NewInstanceResponse{InstanceID: "i-" + r.OrderID, AppInfo: &saas.AppInfo{FrontEndURL: "https://x.example/", UserName: "admin", Password: "pw"}}, nil
}
func (p v1Mem) RefreshInstance(context.Context, *saas.V1RefreshInstanceRequest) error { return nil }
func (p v1Mem) ExpireInstance(context.Context, *saas.V1ExpireInstanceRequest) error   { return nil }
func (p v1Mem) ReleaseInstance(context.Context, *saas.V1ReleaseInstanceRequest) error { return nil }
func (p v1Mem) Upgrade(context.Context, *saas.V1UpgradeRequest) error                 { return nil }
func (p v1Mem) InstanceStatus(context.Context, *saas.V1InstanceStatusRequest) error   { return nil }

var quiet = callback.WithLogger(discardLogger())

// probeBroken probes a seller and returns the failed checks by name.
func probeBroken(t *testing.T, h http.Handler, family string, extra ...string) (map[string]exchange.Check, runResult) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	args := append([]string{"probe", "--family", family, "--url", srv.URL + "/isv", "--json"}, extra...)
	r := kgctl(t, keyEnv, "", allKeys, args...)
	require.Equal(t, 1, r.code, r)
	var out probeJSON
	decodeJSON(t, r.stdout, &out)
	require.False(t, out.Passed)
	failed := map[string]exchange.Check{}
	for _, c := range out.Checks {
		if !c.Pass && !c.Skipped {
			failed[c.Name] = c
		}
	}
	require.Equal(t, out.Failed, len(failed))
	// The human form says the same.
	r2 := kgctl(t, keyEnv, "", allKeys, append([]string{"probe", "--family", family, "--url", srv.URL + "/isv"}, extra...)...)
	require.Equal(t, 1, r2.code, r2)
	for name := range failed {
		assert.Regexp(t, `(?m)^FAIL  `+regexp.QuoteMeta(name)+` `, r2.stdout)
	}
	return failed, r
}

func answer(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, body)
}

func TestProbeFlagsBrokenSellers(t *testing.T) {
	t.Parallel()
	t.Run("wrong result code", func(t *testing.T) {
		failed, _ := probeBroken(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			answer(w, `{"resultCode":"0","resultMsg":"ok"}`)
		}), "order")
		require.Contains(t, failed, "orderNotify")
		assert.Contains(t, failed["orderNotify"].Reason, `resultCode "0" is not one the documentation lists for orderNotify`)
		assert.NotEmpty(t, failed["orderNotify"].Hint)
	})
	t.Run("result code as a number", func(t *testing.T) {
		failed, _ := probeBroken(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			answer(w, `{"resultCode":0}`)
		}), "license")
		assert.Contains(t, failed["refreshLicenseCode"].Reason, "resultCode is 0, not a JSON string")
	})
	t.Run("not HTTP 200", func(t *testing.T) {
		failed, _ := probeBroken(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "forbidden", http.StatusForbidden)
		}), "license")
		assert.Equal(t, "HTTP 403", failed["forged call refused"].Reason)
	})
	t.Run("a new instance id on every retry", func(t *testing.T) {
		failed, _ := probeBroken(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var b map[string]string
			_ = json.NewDecoder(r.Body).Decode(&b)
			answer(w, `{"resultCode":"000000","resultMsg":"success","instanceId":"`+b["businessId"]+`"}`)
		}), "saas")
		require.Contains(t, failed, "newInstance retry (new businessId)")
		c := failed["newInstance retry (new businessId)"]
		assert.Contains(t, c.Reason, "but the first call got")
		assert.Contains(t, c.Hint, "never key on businessId")
		assert.Contains(t, failed, "newInstance ×5 concurrent (one new order)")
		assert.NotContains(t, failed, "newInstance duplicate (same body, signed again)", "the same businessId gets the same id here")
		assert.Contains(t, failed, "forged call refused", "nothing is verified either")
	})
	t.Run("missing Body-Sign", func(t *testing.T) {
		h := saas.NewV1Handler(testV1Key, v1Mem{&memProvider{}}, quiet)
		failed, _ := probeBroken(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(dropHeader{ResponseWriter: w, name: "Body-Sign"}, r)
		}), "saas-v1")
		require.Contains(t, failed, "newInstance")
		assert.Contains(t, failed["newInstance"].Reason, "Body-Sign: ")
		assert.Contains(t, failed["newInstance"].Reason, "no Body-Sign header")
		assert.Contains(t, failed["forged call refused"].Reason, "no Body-Sign header", "refusals must be signed too")
	})
	t.Run("wrong Body-Sign", func(t *testing.T) {
		h := saas.NewV1Handler(testV1Key, v1Mem{&memProvider{}}, quiet)
		failed, _ := probeBroken(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(dropHeader{ResponseWriter: w, name: "Body-Sign", replace: `sign_type="HMAC-SHA256", signature="` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `"`}, r)
		}), "saas-v1")
		assert.Contains(t, failed["newInstance"].Reason, "Body-Sign: ")
		assert.Contains(t, failed["newInstance"].Reason, "does not verify")
	})
	t.Run("undecryptable credentials", func(t *testing.T) {
		// A V1 seller that signs its answers but sends appInfo in clear.
		failed, _ := probeBroken(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body := `{"resultCode":"000000","resultMsg":"success","instanceId":"i-1","appInfo":{"frontEndUrl":"https://x.example/","userName":"admin","password":"plain-password"}}`
			if r.URL.Query().Get("activity") != "newInstance" {
				body = `{"resultCode":"000000","resultMsg":"success"}`
			}
			mac := hmac.New(sha256.New, []byte(testV1Key))
			mac.Write([]byte(body))
			w.Header().Set("Body-Sign", `sign_type="HMAC-SHA256", signature="`+base64.StdEncoding.EncodeToString(mac.Sum(nil))+`"`)
			answer(w, body)
		}), "saas-v1")
		require.Contains(t, failed, "newInstance")
		assert.Contains(t, failed["newInstance"].Reason, "appInfo: ")
		assert.Contains(t, failed["newInstance"].Hint, "saas.EncryptField")
	})
	t.Run("accepting a replayed call", func(t *testing.T) {
		// A handler rebuilt per request (state lost between calls, as in a
		// naive serverless deployment) verifies signatures but remembers
		// no nonce.
		store := saas.NewMemoryStore(1000)
		failed, _ := probeBroken(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			saas.NewHandler(testAccessKey, &memProvider{}, callback.WithStore(store, 0), quiet).ServeHTTP(w, r)
		}), "saas")
		require.Len(t, failed, 1, "%v", failed)
		c := failed["replayed call refused"]
		assert.Contains(t, c.Reason, "answered 000000")
		assert.Contains(t, c.Reason, "want 000001")
		assert.Contains(t, c.Hint, "nonce")
	})
	t.Run("slower than KooGallery waits", func(t *testing.T) {
		h := license.NewHandler(testAccessKey, okLicense{}, callback.WithLogger(discardLogger()))
		failed, _ := probeBroken(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(400 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			h.ServeHTTP(w, r)
		}), "license", "--timeout", "150ms")
		require.Contains(t, failed, "refreshLicenseCode")
		assert.Contains(t, failed["refreshLicenseCode"].Reason, "no answer within 150ms")
		assert.Contains(t, failed["refreshLicenseCode"].Hint, "answer within the timeout")
	})
	t.Run("slow newInstance is told to answer 000004", func(t *testing.T) {
		h := saas.NewHandler(testAccessKey, &memProvider{}, quiet)
		failed, _ := probeBroken(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(300 * time.Millisecond)
			h.ServeHTTP(w, r)
		}), "saas", "--timeout", "100ms")
		assert.Contains(t, failed["newInstance"].Hint, "000004")
	})
	t.Run("kit not idempotent", func(t *testing.T) {
		h := kit.NewHandler(testKitKey, &onceKit{seen: map[string]bool{}}, quiet)
		failed, _ := probeBroken(t, h, "kit")
		require.Contains(t, failed, "tenantSync add again (a new delivery)")
		assert.Contains(t, failed["tenantSync add again (a new delivery)"].Hint, "idempotent")
	})
}

// onceKit refuses a second add of the same tenant: not idempotent.
type onceKit struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (k *onceKit) TenantSync(_ context.Context, r *kit.TenantSyncRequest) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if r.Flag == kit.FlagAdd && k.seen[r.TenantID] {
		return saas.NewResultError("000005", "tenant exists")
	}
	k.seen[r.TenantID] = true
	return nil
}
func (k *onceKit) ApplicationSync(context.Context, *kit.ApplicationSyncRequest) error { return nil }
func (k *onceKit) AuthSync(context.Context, *kit.AuthSyncRequest) error               { return nil }
func (k *onceKit) SingleOrgSync(context.Context, *kit.SingleOrgSyncRequest) error     { return nil }
func (k *onceKit) AllOrgSync(context.Context, *kit.AllOrgSyncRequest) error           { return nil }

type okLicense struct{}

func (okLicense) RefreshLicenseCode(context.Context, *license.RefreshLicenseCodeRequest) error {
	return nil
}
func (okLicense) UpdateLicenseCodeStatus(context.Context, *license.UpdateLicenseCodeStatusRequest) error {
	return nil
}
func (okLicense) ReleaseLicenseCode(context.Context, *license.ReleaseLicenseCodeRequest) error {
	return nil
}

// dropHeader removes (or replaces) a response header before it is sent.
type dropHeader struct {
	http.ResponseWriter
	name, replace string
}

func (d dropHeader) WriteHeader(code int) {
	if d.replace != "" {
		d.Header().Set(d.name, d.replace)
	} else {
		d.Header().Del(d.name)
	}
	d.ResponseWriter.WriteHeader(code)
}

func TestCallbackSendsAndChecks(t *testing.T) {
	t.Parallel()
	p := &memProvider{}
	mux := http.NewServeMux()
	mux.Handle("/isv/produce", saas.NewHandler(testAccessKey, p, quiet))
	mux.Handle("/isv/produce/", kit.NewHandler(testKitKey, &onceKit{seen: map[string]bool{}}, quiet))
	mux.Handle("/isv/v1", saas.NewV1Handler(testV1Key, v1Mem{p}, quiet))
	var notified []string
	var mu sync.Mutex
	mux.Handle("/isv/order", order.NewNotificationHandler(testAccessKey, func(_ context.Context, n *order.Notification) error {
		mu.Lock()
		notified = append(notified, n.OrderID)
		mu.Unlock()
		return nil
	}, callback.WithLogger(discardLogger())))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	r := kgctl(t, keyEnv, "", allKeys, "callback", "saas", "newInstance", "--url", srv.URL+"/isv/produce")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, `"testFlag":"1"`)
	assert.Contains(t, r.stdout, `< HTTP 200 OK`)
	assert.Regexp(t, `PASS  answer  000000`, r.stdout)

	r = kgctl(t, keyEnv, "", allKeys, "callback", "saas", "updateInstanceStatus", "--url", srv.URL+"/isv/produce",
		"--field", "instanceId=i-42", "--field", "status=UNFREEZE")
	require.Equal(t, 0, r.code, r)
	p.mu.Lock()
	assert.Contains(t, p.got, "status i-42 UNFREEZE")
	p.mu.Unlock()

	// --body sends exactly the given body; the key from a file.
	keyFile := t.TempDir() + "/key"
	require.NoError(t, writeFile(keyFile, testAccessKey+"\n"))
	r = kgctl(t, nil, "", allKeys, "callback", "order", "orderNotify", "--url", srv.URL+"/isv/order", "--key-file", keyFile,
		"--body", `{"activity":"orderNotify","orderId":"O-BODY","orderLineId":"O-BODY-1","testFlag":"0"}`)
	require.Equal(t, 0, r.code, r)
	mu.Lock()
	assert.Contains(t, notified, "O-BODY")
	mu.Unlock()

	for _, mode := range []string{"--stale", "--tamper", "--wrong-key", "--unsigned"} {
		r = kgctl(t, keyEnv, "", allKeys, "callback", "order", "orderNotify", "--url", srv.URL+"/isv/order", mode)
		require.Equal(t, 0, r.code, "%s: %s", mode, r)
		assert.Contains(t, r.stdout, "call refused  000001", mode)
	}
	r = kgctl(t, keyEnv, "", allKeys, "callback", "order", "orderNotify", "--url", srv.URL+"/isv/order", "--replay")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "PASS  replayed call refused  000001")

	// V1: Body-Sign checked and credentials decrypted.
	r = kgctl(t, keyEnv, "", allKeys, "callback", "saas-v1", "newInstance", "--url", srv.URL+"/isv/v1", "--json")
	require.Equal(t, 0, r.code, r)
	var out struct {
		Exchanges []callbackcmd.ExchangeJSON `json:"exchanges"`
		Passed    bool                       `json:"passed"`
	}
	decodeJSON(t, r.stdout, &out)
	assert.True(t, out.Passed)
	require.Len(t, out.Exchanges, 1)
	assert.Equal(t, http.MethodGet, out.Exchanges[0].Request.Method)
	assert.NotEmpty(t, out.Exchanges[0].Answer.Header.Get("Body-Sign"))

	// Kit: the sub-path is appended; a typed --field.
	r = kgctl(t, keyEnv, "", allKeys, "callback", "kit", "tenantSync", "--url", srv.URL+"/isv/produce", "--field", "flag:=0")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "/isv/produce/produceAPI/v2/tenantSync")
	assert.Contains(t, r.stdout, `"flag":0`)

	// A seller that accepts everything fails the refusal checks.
	yes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(w, `{"resultCode":"000000","resultMsg":"success"}`)
	}))
	defer yes.Close()
	r = kgctl(t, keyEnv, "", allKeys, "callback", "order", "orderNotify", "--url", yes.URL, "--wrong-key")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "FAIL  forged call refused")
	assert.Contains(t, r.stdout, "want 000001")
	r = kgctl(t, keyEnv, "", allKeys, "callback", "saas", "newInstance", "--url", yes.URL)
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "without an instanceId")

	// Nobody listening: the answer check fails.
	r = kgctl(t, keyEnv, "", allKeys, "callback", "order", "orderNotify", "--url", "http://127.0.0.1:1/isv/order")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "no answer")
	assert.True(t, strings.Contains(r.stdout, "FAIL"))
}

// TestProbeKitWithThePrivateKey: a kit handler holding the seller's private
// key decrypts the clientSecret probe encrypts with --kit-public-key, and
// without it probe says what to pass.
func TestProbeKitWithThePrivateKey(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 3072)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	pubFile := t.TempDir() + "/kit-public.pem"
	require.NoError(t, writeFile(pubFile, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))))
	apps := &secretKit{}
	srv := httptest.NewServer(kit.NewHandler(testKitKey, apps, kit.WithPrivateKey(key), quiet))
	defer srv.Close()

	r := kgctl(t, keyEnv, "", allKeys, "probe", "--family", "kit", "--url", srv.URL+"/isv/produce", "--kit-public-key", pubFile)
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "kgctl-client-secret", apps.secret())

	r = kgctl(t, keyEnv, "", allKeys, "probe", "--family", "kit", "--url", srv.URL+"/isv/produce")
	require.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stdout, "FAIL  applicationSync add")
	assert.Contains(t, r.stdout, "pass --kit-public-key")
}

type secretKit struct {
	onceKit
	mu sync.Mutex
	s  string
}

func (k *secretKit) TenantSync(context.Context, *kit.TenantSyncRequest) error { return nil }
func (k *secretKit) ApplicationSync(_ context.Context, r *kit.ApplicationSyncRequest) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if r.ClientSecret != "" {
		k.s = r.ClientSecret
	}
	return nil
}
func (k *secretKit) secret() string { k.mu.Lock(); defer k.mu.Unlock(); return k.s }
