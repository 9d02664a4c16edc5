package kit

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/isvkit/koogallery/callback"
	engine "github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/canonjson"
	"github.com/isvkit/koogallery/internal/idempotency"
	"github.com/isvkit/koogallery/internal/rsaoaep"
	"github.com/isvkit/koogallery/internal/v1sign"
)

// NewHandler returns the http.Handler for the joint-operation (联营) kit
// sync interfaces, both versions:
//
//	…/produceAPI/v2/{tenantSync,applicationSync,authSync,singleOrgSync,allOrgSync}  V2: x-sign, x-timestamp, x-nonce headers
//	…/produceAPI/{tenantSync,applicationSync,authSync,singleOrgSync,allOrgSync}     V1: authToken header, Body-Sign on the answer
//
// KooGallery appends these sub-paths to the production URL, so mount the
// handler on a subtree and it dispatches on the path's suffix, under any
// prefix and behind http.StripPrefix:
//
//	mux.Handle("/isv/produce/", kit.NewHandler(kitKey, myKit))
//
// key is the secret of the kit binding: the accessKey for V2 (the official
// demo keeps it apart from the basic interface's), the Key for V1.
//
// V2 calls are verified like the other V2 callbacks (one-stage HMAC over the
// canonical body, a 60 s window plus callback.WithClockSkew, nonces remembered against
// replay). V1 calls are verified with the authToken header (HMAC keyed with
// key + the body's timeStamp over the sorted body fields) and a 24-hour
// window on that timeStamp (callback.WithV1Window), and their answers carry a
// Body-Sign header over the exact bytes sent, failures included. An unknown
// sub-path answers 000002 once the call is verified; refusals, malformed
// calls, errors and panics answer as for NewHandler, always HTTP 200.
//
// No signature covers the path, so each interface requires the members
// that identify it, present and not blank, and answers 000002 without them:
// tenantSync tenantId, tenantCode, name, domainName and flag;
// applicationSync tenantId, appId, clientId and flag; authSync tenantId,
// appId, userList, currentSyncTime and flag; singleOrgSync tenantId,
// orgCode, orgName (V1: or name) and flag; allOrgSync tenantId and
// orgInfoList (V1: orgInfo). instanceId and orderId stay optional: they are
// empty in the seller's own debugging calls. Only members the signature
// covers are read: a null member, or for V1 a blank one (the V1 token skips
// both), is treated as absent.
//
// Requests are typed: flags, users (at most 500 per call: more answers
// 000002), departments; userList, orgInfo and orgInfoList are accepted as
// JSON text in a string (V1) or as arrays (V2). The clientSecret of
// applicationSync is decrypted with WithPrivateKey's key (RSA-OAEP; the
// parameter set is undocumented, so the likely ones are tried); a secret
// that key cannot decrypt answers 000002, except for a delete, which needs no
// secret. Without a key the ciphertext is passed on, undecrypted.
//
// Idempotency is mostly the seller's (see Provider). The handler adds
// this: a call that succeeded is remembered in its Store (callback.WithStore; this
// process's memory by default), by its authToken for V1 and by its path and
// canonical body for V2, and an identical delivery is answered 000000
// without calling p again; concurrent identical deliveries
// share one call. A V2 body without timeStamp, which could recur as a
// distinct event, is only shared between concurrent deliveries. Calls run
// with a context detached from KooGallery hanging up, ending after 4 minutes
// (4/5 of callback.WithClaimLease).
//
// It accepts WithPrivateKey and the options of package callback that apply to it
// (callback.KitOption; another does not compile). It panics if key is empty, p is
// nil, or an option's value is invalid (programming errors, caught at
// start-up).
func NewHandler(key string, p Provider, opts ...callback.KitOption) http.Handler {
	if p == nil {
		panic("kit: nil Provider")
	}
	if key == "" {
		panic("kit: empty key")
	}
	s := engine.Apply("kit.NewHandler", engine.Config{Family: "saas.kit"}, engine.Options(opts))
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	k := &kitHandler{p: p, log: log, secretKey: s.PrivateKey, done: idempotency.NewDoneGuard(s.Store, s.ReplaySize(), s.Now, s.ClaimLease(), s.DoneKeep(), log)}
	v1, v2 := s.Config, s.Config
	v1.Scheme, v2.Scheme = engine.SchemeV1Kit, engine.SchemeKit
	k.v1 = engine.NewHandler(key, v1, unknownKit)
	k.v2 = engine.NewHandler(key, v2, unknownKit)
	return k
}

type kitHandler struct {
	p         Provider
	log       *slog.Logger
	secretKey crypto.Decrypter
	done      *idempotency.DoneGuard
	v1, v2    *engine.Handler
}

func unknownKit(context.Context, []byte, *engine.Response) error {
	return engine.Invalid("unknown kit interface")
}

// Kit interface names, the last path segment.
const (
	kitTenantSync      = "tenantSync"
	kitApplicationSync = "applicationSync"
	kitAuthSync        = "authSync"
	kitSingleOrgSync   = "singleOrgSync"
	kitAllOrgSync      = "allOrgSync"
	// kitSingleOrgSyncNew is served as singleOrgSync: the demo's V2 path is
	// singleOrgSync, but a doc page names the interface singleOrgSyncNew and
	// its path was never captured (KooGallery's kit pages name it, but no capture of it is published).
	kitSingleOrgSyncNew = "singleOrgSyncNew"
)

// parseKitRoute reads the interface and version from the end of path:
// ".../produceAPI/v2/<name>" is V2, ".../produceAPI/<name>" V1, with
// "produceAPI" a whole segment (path may lack the leading '/' behind
// http.StripPrefix) and one trailing '/' tolerated. For an unknown name under
// either directory the version is still reported, with ok false.
func parseKitRoute(path string) (name string, v Version, ok bool) {
	path = strings.TrimSuffix(path, "/")
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "", 0, false
	}
	name, dir := path[i+1:], path[:i+1]
	switch {
	case hasSegmentSuffix(dir, "produceAPI/v2/"):
		v = V2
	case hasSegmentSuffix(dir, "produceAPI/"):
		v = V1
	default:
		return "", 0, false
	}
	switch name {
	case kitTenantSync, kitApplicationSync, kitAuthSync, kitSingleOrgSync, kitAllOrgSync:
		return name, v, true
	case kitSingleOrgSyncNew:
		return kitSingleOrgSync, v, true
	}
	return "", v, false
}

func hasSegmentSuffix(s, suffix string) bool {
	return strings.HasSuffix(s, suffix) && (len(s) == len(suffix) || s[len(s)-len(suffix)-1] == '/')
}

// ServeHTTP verifies with the scheme the path names (a path outside both
// directories: V2 if it carries x-sign, else V1) and serves the call; an
// unknown interface answers 000002 once verified.
func (k *kitHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, version, ok := parseKitRoute(r.URL.Path)
	eng := k.v1
	if version == V2 || (version == 0 && r.Header.Get("X-Sign") != "") {
		eng = k.v2
	}
	if !ok {
		eng.Handle(w, r, unknownKit)
		return
	}
	eng.Handle(w, r, func(ctx context.Context, body []byte, resp *engine.Response) error {
		return k.serve(ctx, r, name, version, body, resp)
	})
}

func (k *kitHandler) serve(ctx context.Context, r *http.Request, name string, v Version, body []byte, resp *engine.Response) error {
	resp.Activity = name
	f, err := decodeKitFields(body, v)
	if err != nil {
		return err
	}
	var call func(context.Context) error
	switch name {
	case kitTenantSync:
		req := &TenantSyncRequest{
			Version: v, InstanceID: f.str("instanceId"), OrderID: f.str("orderId"), TenantID: f.required("tenantId"),
			TenantCode: f.required("tenantCode"), Name: f.required("name"), DomainName: f.required("domainName"),
			Flag: f.flag(), TestFlag: f.testFlag(), TimeStamp: f.time("timeStamp"),
		}
		req.Raw = raw(body)
		call = func(ctx context.Context) error { return k.p.TenantSync(ctx, req) }
	case kitApplicationSync:
		req := &ApplicationSyncRequest{
			Version: v, InstanceID: f.str("instanceId"), TenantID: f.required("tenantId"), AppID: f.required("appId"),
			ClientID: f.required("clientId"), EncryptedClientSecret: f.str("clientSecret"),
			Flag: f.flag(), TestFlag: f.testFlag(), TimeStamp: f.time("timeStamp"),
		}
		if f.err == nil {
			if req.ClientSecret, err = k.decryptSecret(ctx, req); err != nil {
				return err
			}
		}
		req.Raw = raw(body)
		call = func(ctx context.Context) error { return k.p.ApplicationSync(ctx, req) }
	case kitAuthSync:
		req := &AuthSyncRequest{
			Version: v, InstanceID: f.str("instanceId"), TenantID: f.required("tenantId"), AppID: f.required("appId"),
			CurrentSyncTime: f.requiredTime("currentSyncTime"), Flag: f.flag(), TestFlag: f.testFlag(), TimeStamp: f.time("timeStamp"),
		}
		list := f.list("userList")
		if f.err == nil {
			if req.Users, err = decodeKitUsers(list); err != nil {
				return err
			}
		}
		req.Raw = raw(body)
		call = func(ctx context.Context) error { return k.p.AuthSync(ctx, req) }
	case kitSingleOrgSync:
		req := &SingleOrgSyncRequest{
			Version: v, InstanceID: f.str("instanceId"), TenantID: f.required("tenantId"), OrgCode: f.required("orgCode"),
			OrgName: f.requiredOf("orgName", "name"), ParentCode: f.str("parentCode"),
			Flag: f.flag(), TestFlag: f.testFlag(), TimeStamp: f.time("timeStamp"),
		}
		req.Raw = raw(body)
		call = func(ctx context.Context) error { return k.p.SingleOrgSync(ctx, req) }
	case kitAllOrgSync:
		req := &AllOrgSyncRequest{
			Version: v, InstanceID: f.str("instanceId"), TenantID: f.required("tenantId"),
			TestFlag: f.testFlag(), TimeStamp: f.time("timeStamp"),
		}
		list := f.list("orgInfoList", "orgInfo")
		if f.err == nil {
			if req.Orgs, err = decodeKitOrgs(list); err != nil {
				return err
			}
		}
		req.Raw = raw(body)
		call = func(ctx context.Context) error { return k.p.AllOrgSync(ctx, req) }
	}
	if f.err != nil {
		return f.err
	}
	key, final := k.doneKey(r, name, v, body, f)
	return k.done.Do(ctx, key, final, call)
}

// doneKey identifies a delivery for the done guard. V1: the MAC of the
// verified authToken, which covers the body's fields and timeStamp. V2: the
// canonical body, which the verified x-sign covers; final only if the body
// has a timeStamp, without which a later identical body may be a new event
// (add, delete, add again). Neither signature covers the path, so the
// interface name is part of the key.
func (k *kitHandler) doneKey(r *http.Request, name string, v Version, body []byte, f *kitFields) (string, bool) {
	if v == V1 {
		mac, _ := v1sign.TokenMAC(r.Header.Get(v1sign.HeaderAuthToken)) // verified by the engine
		return "kit1/" + name + "/" + hex.EncodeToString(mac[:]), true
	}
	sum := canonjson.Sum256(body) // decodeKitFields scanned it: an object
	var hexSum [2 * sha256.Size]byte
	hex.Encode(hexSum[:], sum[:])
	var key strings.Builder
	key.Grow(len("kit2/") + len(name) + 1 + len(hexSum))
	key.WriteString("kit2/")
	key.WriteString(name)
	key.WriteByte('/')
	key.Write(hexSum[:])
	return key.String(), f.str("timeStamp") != ""
}

// decryptSecret decrypts an applicationSync clientSecret with the seller's
// private key, if there is one. Neither the secret nor the ciphertext is
// logged.
func (k *kitHandler) decryptSecret(ctx context.Context, req *ApplicationSyncRequest) (string, error) {
	if k.secretKey == nil || req.EncryptedClientSecret == "" {
		return "", nil
	}
	pt, err := rsaoaep.Decrypt(k.secretKey, req.EncryptedClientSecret)
	if err == nil {
		return string(pt), nil
	}
	if req.Flag == FlagDelete {
		// A delete needs no secret; failing it would leave the tenant's
		// application behind.
		k.log.LogAttrs(ctx, slog.LevelWarn, "koogallery: clientSecret of a delete cannot be decrypted; passed on encrypted",
			slog.String("family", "saas.kit"), slog.String("tenantId", req.TenantID), slog.String("appId", req.AppID), slog.Any("error", err))
		return "", nil
	}
	return "", fmt.Errorf("%w: %w", errKitSecret, err)
}
