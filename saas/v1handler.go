package saas

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/isvkit/koogallery/callback"
	engine "github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/fieldcrypt"
	"github.com/isvkit/koogallery/internal/idempotency"
	"github.com/isvkit/koogallery/internal/v1sign"
	"github.com/isvkit/koogallery/order"
)

// NewV1Handler returns the http.Handler for the SaaS V1 basic production
// interface (《通用和自服务SaaS类商品接入指南 V1.0》): mount it at the URL
// configured for the product; KooGallery calls GET
// <url>?activity=…&timeStamp=…&authToken=….
//
// key is the Key of 卖家中心 › 服务商管理 › 服务商信息. The handler
//
//   - verifies the authToken (HMAC-SHA256 keyed with key + timeStamp over the
//     other parameters, URL-decoded and sorted) in constant time, and refuses
//     a timeStamp more than 24 hours away (callback.WithV1Window);
//   - dispatches on the activity parameter to p, with typed requests; the
//     encrypted mobilePhone and email of newInstance reach p decrypted;
//   - encrypts AppInfo.UserName and Password in its answers (AES-256 unless
//     WithEncryptType says AES128), refusing with 000005 and a log entry a
//     value longer than KooGallery's 128-character limit allows;
//   - always answers HTTP 200 with a JSON body serialised once and signed
//     with the Body-Sign header over exactly the bytes sent, whatever the
//     result code: 000001 for a call not proven to come from KooGallery,
//     000002 for a malformed one or an unknown activity (neither reaches p),
//     the code of a ResultError from p, and 000005 for other errors and
//     panics, whose text goes only to the logger.
//
// Idempotency. NewInstance runs at most once per orderId, and per orderId
// and productId for pay-per-use, one-time and package orders (chargingMode
// 0, 3 and 5), whose one order may carry several products (「新购商品」: per
// orderId and productId). Periodic orders, and orders that name no known
// charging mode, key on orderId alone, so that a re-send naming another
// product (the product ID changes with the period type) cannot provision
// twice. A re-sent newInstance (KooGallery re-sends for three hours after a
// failure, and whenever the buyer opens the console) is answered with the
// recorded instance ID and the AppInfo that QueryInstance reports for it, so
// the console keeps showing how to reach the instance; if QueryInstance fails
// the answer carries the instance ID alone. Upgrade runs at most once per
// upgrade orderId. Records live in the Store (callback.WithStore), as for NewHandler,
// under keys "v1.newInstance/<orderId>/<productId or empty>" and
// "v1.upgrade/<orderId>/".
//
// Replays. V1 has no nonce. The handler remembers each refreshInstance,
// expireInstance, releaseInstance and instanceStatus call that succeeded, by
// its authToken, for as long as the window accepts it, in its Store
// (callback.WithStore; this process's memory by default); the same signed request
// arriving again is answered 000000 without calling p
// (KooGallery may re-send an identical request; a URL replayed from an access
// log cannot undo a later change). Concurrent identical requests wait for the
// first. Those calls run with a context detached from KooGallery hanging up,
// ending after 4 minutes (4/5 of callback.WithClaimLease).
//
// It accepts WithEncryptType and the options of package callback that apply
// to it (callback.SaaSV1Option; another does not compile). It panics if key
// is empty, p is nil, or an option's value is invalid (WithEncryptType
// naming an unknown size).
func NewV1Handler(key string, p V1Provider, opts ...callback.SaaSV1Option) http.Handler {
	if p == nil {
		panic("saas: nil V1Provider")
	}
	if key == "" {
		panic("saas: empty key")
	}
	s, log := settings("saas.NewV1Handler", engine.Config{Family: "saas.v1", Scheme: engine.SchemeV1Query}, engine.Options(opts))
	encType := EncryptType(s.EncryptType)
	if encType == "" {
		encType = AES256
	}
	h := &v1Handler{
		p:       p,
		log:     log,
		keys:    fieldcrypt.DeriveKeys(key),
		encType: fieldcrypt.EncryptType(encType),
		once:    once(s, log),
		done:    idempotency.NewDoneGuard(s.Store, s.ReplaySize(), s.Now, s.ClaimLease(), s.DoneKeep(), log),
	}
	return engine.NewHandler(key, s.Config, h.serve)
}

type v1Handler struct {
	p       V1Provider
	log     *slog.Logger
	keys    *fieldcrypt.Keys
	encType fieldcrypt.EncryptType
	once    idempotency.Group[Record]
	done    *idempotency.DoneGuard
}

var errOrderBusy = &engine.Error{Code: engine.CodeInternal, Message: "order is being processed; retry later"}

// serve handles a verified V1 call; raw is its query string.
func (h *v1Handler) serve(ctx context.Context, raw []byte, resp *engine.Response) error {
	q := resp.V1Query // parsed and verified by the engine
	if q == nil {
		var err error
		if q, err = v1sign.ParseQuery(string(raw)); err != nil {
			return engine.Invalid("malformed query") // unreachable: the engine parsed it
		}
	}
	in := v1Params{q: q}
	activity := q.Get("activity")
	resp.Activity = activity
	test, err := engine.ParseTestFlag(strings.TrimSpace(q.Get("testFlag")))
	if err != nil {
		return err
	}
	switch activity {
	case "newInstance":
		return h.newInstance(ctx, &in, test, resp)
	case "queryInstance":
		return h.queryInstance(ctx, &in, test, resp)
	case "refreshInstance":
		req := &V1RefreshInstanceRequest{
			OrderID: in.required("orderId"), InstanceID: in.required("instanceId"), ExpireTime: in.time("expireTime", true),
			ProductID: q.Get("productId"), TrialToFormal: in.flag("trialToFormal"), PeriodType: order.PeriodType(q.Get("periodType")),
			PeriodNumber: in.int("periodNumber"), OrderAmount: q.Get("orderAmount"), TestFlag: test, Params: in.values(),
		}
		return h.doOnce(ctx, &in, func(ctx context.Context) error { return h.p.RefreshInstance(ctx, req) })
	case "expireInstance":
		req := &V1ExpireInstanceRequest{InstanceID: in.required("instanceId"), OrderID: q.Get("orderId"), TestFlag: test, Params: in.values()}
		return h.doOnce(ctx, &in, func(ctx context.Context) error { return h.p.ExpireInstance(ctx, req) })
	case "releaseInstance":
		req := &V1ReleaseInstanceRequest{InstanceID: in.required("instanceId"), OrderID: q.Get("orderId"),
			OrderAmount: q.Get("orderAmount"), TestFlag: test, Params: in.values()}
		return h.doOnce(ctx, &in, func(ctx context.Context) error { return h.p.ReleaseInstance(ctx, req) })
	case "instanceStatus":
		req := &V1InstanceStatusRequest{InstanceID: in.required("instanceId"), Status: Status(in.required("instanceStatus")),
			TestFlag: test, Params: in.values()}
		return h.doOnce(ctx, &in, func(ctx context.Context) error { return h.p.InstanceStatus(ctx, req) })
	case "upgrade":
		return h.upgrade(ctx, &in, test)
	case "":
		return engine.Invalid("missing activity")
	}
	return engine.Invalid("unknown activity")
}

// doOnce runs fn for a verified call unless the same signed request already
// succeeded (see doneGuard). Parameter errors found while building the
// request are answered first.
func (h *v1Handler) doOnce(ctx context.Context, in *v1Params, fn func(context.Context) error) error {
	if in.err != nil {
		return in.err
	}
	mac, ok := v1sign.TokenMAC(in.q.Get(v1sign.ParamAuthToken))
	if !ok {
		return engine.Invalid("malformed authToken") // unreachable: the engine verified it
	}
	return h.done.Do(ctx, "v1/"+hex.EncodeToString(mac[:]), true, fn)
}

func (h *v1Handler) newInstance(ctx context.Context, in *v1Params, test bool, resp *engine.Response) error {
	q := in.q
	req := &V1NewInstanceRequest{
		CustomerID: q.Get("customerId"), CustomerName: q.Get("customerName"),
		UserID: q.Get("userId"), UserName: q.Get("userName"),
		BusinessID: in.required("businessId"), OrderID: in.required("orderId"),
		SKUCode: q.Get("skuCode"), ProductID: q.Get("productId"),
		TrialFlag: in.flag("trialFlag"), ExpireTime: in.time("expireTime", false),
		ChargingMode: parseChargingMode(q.Get("chargingMode")),
		PeriodType:   order.PeriodType(q.Get("periodType")), PeriodNumber: in.int("periodNumber"),
		OrderAmount: q.Get("orderAmount"),
		Amount:      in.int("amount"), DiskSize: in.int("diskSize"), BandWidth: in.int("bandWidth"),
		ProvisionType: q.Get("provisionType"),
		TestFlag:      test, Params: in.values(),
	}
	if in.err != nil {
		return in.err
	}
	var err error
	if req.MobilePhone, err = h.decrypt(ctx, "mobilePhone", q.Get("mobilePhone")); err != nil {
		return err
	}
	if req.Email, err = h.decrypt(ctx, "email", q.Get("email")); err != nil {
		return err
	}
	if s := q.Get("saasExtendParams"); s != "" {
		var ok bool
		if req.SaaSExtendParams, ok = parseExtendParams(s); !ok {
			// Optional, and KooGallery does not document its encoding: an unreadable value must
			// not fail the order. Its content is not logged.
			h.log.LogAttrs(ctx, slog.LevelWarn, "koogallery: saasExtendParams is neither a JSON array nor its Base64; passed in Params only",
				slog.String("family", "saas.v1"), slog.String("orderId", req.OrderID))
		}
	}

	var fresh *V1NewInstanceResponse // set when this call ran NewInstance
	rec, err := h.once.Do(ctx, v1NewInstanceKey(req), func(ctx context.Context, _ *Record) (*Record, error) {
		out, err := h.p.NewInstance(ctx, req)
		if err != nil {
			return nil, err
		}
		if out == nil || out.InstanceID == "" {
			return nil, errNoInstanceID
		}
		fresh = out
		return &Record{InstanceID: out.InstanceID}, nil
	})
	if err != nil {
		if errors.Is(err, idempotency.ErrInProgress) {
			return errOrderBusy
		}
		return err
	}
	var app *AppInfo
	if fresh != nil {
		app = fresh.AppInfo
	} else {
		app = h.recordedAppInfo(ctx, rec.InstanceID, test)
	}
	extra := engine.AppendString(append(resp.Extra, `,"instanceId":`...), rec.InstanceID)
	if app != nil {
		extra = h.appendEncryptType(extra)
		if extra, err = h.appendAppInfo(extra, app); err != nil {
			return fmt.Errorf("saas: v1 newInstance %s: %w", rec.InstanceID, err)
		}
	}
	resp.Extra = extra
	return nil
}

// v1NewInstanceKey is the Store key of a V1 newInstance; see NewV1Handler
// for the choice of orderId or orderId+productId.
func v1NewInstanceKey(req *V1NewInstanceRequest) string {
	switch req.ChargingMode {
	case order.ChargingModeOnDemand, order.ChargingModeOneTime, order.ChargingModeOnDemandPackage:
		return recordKey("v1.newInstance", req.OrderID, req.ProductID)
	}
	return recordKey("v1.newInstance", req.OrderID, "")
}

// recordedAppInfo asks QueryInstance for the AppInfo of an instance a
// re-sent newInstance is answered with. A failure leaves it out: the
// instance exists, and failing the call would tell KooGallery otherwise.
func (h *v1Handler) recordedAppInfo(ctx context.Context, instanceID string, test bool) *AppInfo {
	out, err := h.p.QueryInstance(ctx, &QueryInstanceRequest{InstanceIDs: []string{instanceID}, TestFlag: test})
	if err != nil {
		h.log.LogAttrs(ctx, slog.LevelWarn, "koogallery: QueryInstance failed for a re-sent newInstance; answering without appInfo",
			slog.String("family", "saas.v1"), slog.String("instanceId", instanceID), slog.Any("error", err))
		return nil
	}
	if out != nil {
		for i := range out.Info {
			if out.Info[i].InstanceID == instanceID {
				return out.Info[i].AppInfo
			}
		}
	}
	return nil
}

func (h *v1Handler) upgrade(ctx context.Context, in *v1Params, test bool) error {
	req := &V1UpgradeRequest{
		InstanceID: in.required("instanceId"), OrderID: in.required("orderId"),
		SKUCode: in.q.Get("skuCode"), ProductID: in.q.Get("productId"),
		Amount: in.int("amount"), DiskSize: in.int("diskSize"), BandWidth: in.int("bandWidth"),
		TestFlag: test, Params: in.values(),
	}
	if in.err != nil {
		return in.err
	}
	_, err := h.once.Do(ctx, recordKey("v1.upgrade", req.OrderID, ""), func(ctx context.Context, _ *Record) (*Record, error) {
		if err := h.p.Upgrade(ctx, req); err != nil {
			return nil, err
		}
		return &Record{InstanceID: req.InstanceID}, nil
	})
	if errors.Is(err, idempotency.ErrInProgress) {
		return errOrderBusy
	}
	return err
}

func (h *v1Handler) queryInstance(ctx context.Context, in *v1Params, test bool, resp *engine.Response) error {
	ids, err := splitInstanceIDs(in.q.Get("instanceId"))
	if err != nil {
		return err
	}
	out, err := h.p.QueryInstance(ctx, &QueryInstanceRequest{InstanceIDs: ids, TestFlag: test})
	if err != nil {
		return err
	}
	var info []InstanceInfo
	if out != nil {
		info = out.Info
	}
	// Encrypt the credentials in a copy, then encode as V2 does.
	enc := make([]InstanceInfo, len(info))
	withApp := false
	for i, inst := range info {
		enc[i] = inst
		if inst.AppInfo == nil {
			continue
		}
		withApp = true
		a := *inst.AppInfo
		if a.UserName, err = h.encrypt("userName", a.UserName); err != nil {
			return fmt.Errorf("saas: v1 queryInstance %s: %w", inst.InstanceID, err)
		}
		if a.Password, err = h.encrypt("password", a.Password); err != nil {
			return fmt.Errorf("saas: v1 queryInstance %s: %w", inst.InstanceID, err)
		}
		enc[i].AppInfo = &a
	}
	extra := resp.Extra
	if withApp {
		extra = h.appendEncryptType(extra)
	}
	if extra, err = appendInfo(extra, enc); err != nil {
		return err
	}
	resp.Extra = extra
	return nil
}

func (h *v1Handler) appendEncryptType(dst []byte) []byte {
	return engine.AppendString(append(dst, `,"encryptType":`...), string(h.encType))
}

// appendAppInfo appends newInstance's `,"appInfo":{…}` with the
// credentials encrypted.
func (h *v1Handler) appendAppInfo(dst []byte, a *AppInfo) ([]byte, error) {
	user, err := h.encrypt("userName", a.UserName)
	if err != nil {
		return dst, err
	}
	pass, err := h.encrypt("password", a.Password)
	if err != nil {
		return dst, err
	}
	dst = append(dst, `,"appInfo":{"frontEndUrl":`...)
	dst = engine.AppendString(dst, a.FrontEndURL)
	dst = appendOptional(dst, "adminUrl", a.AdminURL)
	dst = appendOptional(dst, "userName", user)
	dst = appendOptional(dst, "password", pass)
	dst = appendOptional(dst, "memo", a.Memo) // non-ASCII as \u escapes, as §4.1 asks
	return append(dst, '}'), nil
}

// ErrFieldTooLong reports an AppInfo.UserName or Password whose encrypted
// form exceeds KooGallery's 128 characters (IV included): a plaintext longer
// than 79 bytes. KooGallery would show the buyer nothing, so the handler
// answers 000005 and logs it rather than truncate.
var ErrFieldTooLong = errors.New("encrypted appInfo field longer than 128 characters; plaintext must be at most 79 bytes")

// encrypt encrypts an appInfo credential; "" stays "" (not sent).
func (h *v1Handler) encrypt(field, plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	if len(plaintext) > maxEncryptedPlaintext {
		return "", fmt.Errorf("appInfo.%s: %w", field, ErrFieldTooLong)
	}
	s, err := h.keys.Encrypt(nil, h.encType, plaintext)
	if err != nil {
		return "", fmt.Errorf("appInfo.%s: %w", field, err)
	}
	if len(s) > maxEncryptedLen { // unreachable given the plaintext bound
		return "", fmt.Errorf("appInfo.%s: %w", field, ErrFieldTooLong)
	}
	return s, nil
}

// decrypt decrypts an incoming mobilePhone or email with the configured key
// size, falling back to the other; "" stays "". A value that does not
// decrypt answers 000002. Neither the value nor the plaintext is logged.
func (h *v1Handler) decrypt(ctx context.Context, field, value string) (string, error) {
	if value == "" {
		return "", nil
	}
	pt, used, err := h.keys.DecryptFallback(h.encType, value)
	if err != nil {
		return "", fmt.Errorf("%w: %w", engine.Invalid("invalid "+field), err)
	}
	if used != h.encType {
		h.log.LogAttrs(ctx, slog.LevelWarn, "koogallery: field decrypted with the other AES key size; set WithEncryptType to match the product",
			slog.String("family", "saas.v1"), slog.String("field", field), slog.String("encryptType", string(used)))
	}
	return pt, nil
}

// v1Params reads typed V1 query parameters, keeping the first error.
type v1Params struct {
	q   *v1sign.Query
	err error
}

func (p *v1Params) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *v1Params) required(name string) string {
	v := p.q.Get(name)
	if v == "" {
		p.fail(engine.Require(name, ""))
	}
	return v
}

// int reads an optional integer; "" is 0, anything but an integer 000002.
func (p *v1Params) int(name string) int {
	s := strings.TrimSpace(p.q.Get(name))
	if s == "" {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		p.fail(engine.Invalid("invalid " + name))
	}
	return v
}

// flag reads a 0/1 flag such as trialFlag; absent is false.
func (p *v1Params) flag(name string) bool {
	switch strings.TrimSpace(p.q.Get(name)) {
	case "1", "true":
		return true
	case "", "0", "false":
		return false
	}
	p.fail(engine.Invalid("invalid " + name))
	return false
}

// time reads a UTC yyyyMMddHHmmss[SSS] time; absent is the zero time.
func (p *v1Params) time(name string, required bool) time.Time {
	s := strings.TrimSpace(p.q.Get(name))
	if s == "" && !required {
		return time.Time{}
	}
	t, err := engine.RequireTime(name, s)
	if err != nil {
		p.fail(err)
	}
	return t
}

// values returns every parameter but the authToken.
func (p *v1Params) values() url.Values {
	v := p.q.Values()
	delete(v, v1sign.ParamAuthToken)
	return v
}

// parseChargingMode maps the documented integers to their names and keeps
// anything else as sent (the legacy "PERIOD" form included).
func parseChargingMode(s string) order.ChargingMode {
	switch strings.TrimSpace(s) {
	case "0":
		return order.ChargingModeOnDemand
	case "1":
		return order.ChargingModePeriod
	case "3":
		return order.ChargingModeOneTime
	case "5":
		return order.ChargingModeOnDemandPackage
	}
	return order.ChargingMode(s)
}
