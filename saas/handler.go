package saas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/isvkit/koogallery/callback"
	engine "github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/idempotency"
)

// NewHandler returns the http.Handler for the SaaS V2 basic production
// interface: mount it at the URL configured for the product in the seller
// console (KooGallery calls POST <url>?signature=…&timestamp=…&nonce=…).
//
// accessKey is the key from 卖家中心 › 应用工具 › 密钥管理. The handler
// verifies every call's signature in constant time, refuses calls whose
// timestamp is more than 60 s (plus skew) away and replays of a nonce, reads
// at most 1 MiB, dispatches on the body's activity to p, and always answers
// HTTP 200 with a JSON result. Refused calls (000001) and malformed ones
// (000002) never reach p. newInstance and upgradeInstance run at most once
// per order line (see Store).
//
// It accepts the options of package callback that apply to it
// (callback.SaaSOption; another does not compile). It panics if accessKey is empty, p is
// nil, or an option's value is invalid (programming errors, caught at
// start-up).
func NewHandler(accessKey string, p Provider, opts ...callback.SaaSOption) http.Handler {
	if p == nil {
		panic("saas: nil Provider")
	}
	s, log := settings("saas.NewHandler", engine.Config{Family: "saas"}, engine.Options(opts))
	h := &handler{p: p, log: log, once: once(s, log)}
	return engine.NewHandler(accessKey, s.Config, h.serve)
}

type handler struct {
	p    Provider
	log  *slog.Logger
	once idempotency.Group[Record]
}

func (h *handler) serve(ctx context.Context, body []byte, resp *engine.Response) error {
	w, test, err := engine.DecodeRequest(body, resp)
	if err != nil {
		return err
	}
	switch w.Activity {
	case "newInstance":
		return h.newInstance(ctx, &w, test, resp)
	case "queryInstance":
		return h.queryInstance(ctx, &w, test, resp)
	case "refreshInstance":
		return h.refreshInstance(ctx, &w, test)
	case "updateInstanceStatus":
		if err := errors.Join(engine.Require("instanceId", w.InstanceID), engine.Require("status", w.Status)); err != nil {
			return err
		}
		return h.p.UpdateInstanceStatus(ctx, &UpdateInstanceStatusRequest{InstanceID: w.InstanceID, Status: Status(w.Status), TestFlag: test})
	case "releaseInstance":
		if err := engine.Require("instanceId", w.InstanceID); err != nil {
			return err
		}
		return h.p.ReleaseInstance(ctx, &ReleaseInstanceRequest{InstanceID: w.InstanceID, OrderID: w.OrderID, OrderLineID: w.OrderLineID, TestFlag: test})
	case "upgradeInstance":
		return h.upgradeInstance(ctx, &w, test)
	case "":
		return engine.Invalid("missing activity")
	}
	return engine.Invalid("unknown activity")
}

var (
	errNoInstanceID      = errors.New("saas: NewInstance returned no instance ID")
	errProcessingNoID    = errors.New("saas: NewInstance returned 000004; return a NewInstanceResponse with Pending and an InstanceID instead")
	errOrderLineBusy     = &engine.Error{Code: engine.CodeInternal, Message: "order line is being processed; retry later"}
	errTooManyInstanceID = engine.Invalid("too many instanceId values (at most 100)")
)

func (h *handler) newInstance(ctx context.Context, w *engine.Fields, test bool, resp *engine.Response) error {
	if err := errors.Join(engine.Require("orderId", w.OrderID), engine.Require("orderLineId", w.OrderLineID),
		engine.Require("businessId", w.BusinessID)); err != nil {
		return err
	}
	req := &NewInstanceRequest{OrderID: w.OrderID, OrderLineID: w.OrderLineID, BusinessID: w.BusinessID, TestFlag: test}
	rec, err := h.once.Do(ctx, recordKey("newInstance", w.OrderID, w.OrderLineID), func(ctx context.Context, prev *Record) (*Record, error) {
		if prev != nil {
			req.PendingInstanceID = prev.InstanceID
		}
		out, err := h.p.NewInstance(ctx, req)
		if err != nil {
			var r engine.Resulter
			if errors.As(err, &r) {
				if code, _ := r.Result(); code == engine.CodeProcessing {
					return nil, fmt.Errorf("%w (got: %v)", errProcessingNoID, err) // %v: 000004 must not decide the answer
				}
			}
			return nil, err
		}
		if out == nil || out.InstanceID == "" {
			return nil, errNoInstanceID
		}
		if prev != nil && out.InstanceID != prev.InstanceID {
			// KooGallery was promised prev's ID; keep the promise.
			h.log.LogAttrs(ctx, slog.LevelWarn, "koogallery: NewInstance changed the instance ID of a pending order line; keeping the first",
				slog.String("orderId", w.OrderID), slog.String("orderLineId", w.OrderLineID),
				slog.String("pendingInstanceId", prev.InstanceID), slog.String("returnedInstanceId", out.InstanceID))
			out.InstanceID = prev.InstanceID
		}
		return &Record{InstanceID: out.InstanceID, Pending: out.Pending}, nil
	})
	if err != nil {
		if errors.Is(err, idempotency.ErrInProgress) {
			return errOrderLineBusy
		}
		return err
	}
	resp.Extra = engine.AppendString(append(resp.Extra, `,"instanceId":`...), rec.InstanceID)
	if rec.Pending {
		resp.Code = engine.CodeProcessing
		resp.Message = "provisioning asynchronously"
	}
	return nil
}

func (h *handler) upgradeInstance(ctx context.Context, w *engine.Fields, test bool) error {
	if err := errors.Join(engine.Require("instanceId", w.InstanceID), engine.Require("orderId", w.OrderID),
		engine.Require("orderLineId", w.OrderLineID)); err != nil {
		return err
	}
	req := &UpgradeInstanceRequest{InstanceID: w.InstanceID, OrderID: w.OrderID, OrderLineID: w.OrderLineID, TestFlag: test}
	_, err := h.once.Do(ctx, recordKey("upgradeInstance", w.OrderID, w.OrderLineID), func(ctx context.Context, _ *Record) (*Record, error) {
		if err := h.p.UpgradeInstance(ctx, req); err != nil {
			return nil, err
		}
		return &Record{InstanceID: req.InstanceID}, nil
	})
	if errors.Is(err, idempotency.ErrInProgress) {
		return errOrderLineBusy
	}
	return err
}

func (h *handler) refreshInstance(ctx context.Context, w *engine.Fields, test bool) error {
	if err := errors.Join(engine.Require("scene", w.Scene), engine.Require("orderId", w.OrderID),
		engine.Require("orderLineId", w.OrderLineID), engine.Require("instanceId", w.InstanceID)); err != nil {
		return err
	}
	expire, err := engine.RequireTime("expireTime", w.ExpireTime)
	if err != nil {
		return err
	}
	return h.p.RefreshInstance(ctx, &RefreshInstanceRequest{
		Scene: Scene(w.Scene), OrderID: w.OrderID, OrderLineID: w.OrderLineID, InstanceID: w.InstanceID,
		ProductID: w.ProductID, ExpireTime: expire, TestFlag: test,
	})
}

func (h *handler) queryInstance(ctx context.Context, w *engine.Fields, test bool, resp *engine.Response) error {
	ids, err := splitInstanceIDs(w.InstanceID)
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
	extra, err := appendInfo(resp.Extra, info)
	if err != nil {
		return err
	}
	resp.Extra = extra
	return nil
}

// splitInstanceIDs splits queryInstance's comma-separated list (≤100 IDs),
// ignoring blanks around and between the commas.
func splitInstanceIDs(list string) ([]string, error) {
	ids := make([]string, 0, strings.Count(list, ",")+1)
	for id := range strings.SplitSeq(list, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	switch {
	case len(ids) == 0:
		return nil, engine.Require("instanceId", "")
	case len(ids) > 100:
		return nil, errTooManyInstanceID
	}
	return ids, nil
}
