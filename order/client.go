package order

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/isvkit/koogallery"
)

// QueryPath is the query-order API path, the same on every site.
const QueryPath = "/api/mkp-openapi-public/global/v1/order/query"

// Client calls the order open APIs. It is safe for concurrent use.
type Client struct {
	kg *koogallery.Client
}

// NewClient returns an order Client using kg's credentials, site and HTTP
// stack.
func NewClient(kg *koogallery.Client) *Client { return &Client{kg: kg} }

// QueryOption adjusts a QueryOrder call.
type QueryOption func(*queryParams)

// WithOrderLineID restricts the answer to one order line.
func WithOrderLineID(id string) QueryOption {
	return func(p *queryParams) { p.OrderLineID = id }
}

type queryParams struct {
	OrderID, OrderLineID string
}

type queryResponse struct {
	koogallery.Result
	OrderInfo *Order `json:"orderInfo"`
}

// maxIDLen is the documented maximum length of order and order-line IDs.
const maxIDLen = 64

// ErrOrderNotFound is matched (errors.Is) by the error QueryOrder returns
// when KooGallery does not know the order or the order line asked for.
var ErrOrderNotFound = errors.New("order: order not found")

// QueryOrder returns the order with the given ID: typically called after an
// order notification or a newInstance callback, which carry only IDs.
// Invalid IDs (empty, over 64 characters, not UTF-8) fail before any
// network call with an error matching koogallery.ErrInvalidRequest;
// failures reported by KooGallery are *koogallery.APIError values
// (errors.Is against the koogallery sentinels).
//
// An unknown order: KooGallery's error table for this API (查询订单, 错误码)
// has no entry for it. Its nearest entries are HTTP 500 MKT.0100 ("Failure
// of input parameter": the input failed validation) and HTTP 500 MKT.9001
// (not found); koogallerytest answers MKT.0100. QueryOrder reads both
// codes, and their CBC.* spellings, as "no order (or order line) by that
// ID", since it has checked the IDs' form itself: the error then matches
// ErrOrderNotFound and koogallery.ErrNotFound, besides the code's own
// class (koogallery.ErrInvalidRequest for MKT.0100) and *APIError.
func (c *Client) QueryOrder(ctx context.Context, orderID string, opts ...QueryOption) (*Order, error) {
	p := queryParams{OrderID: orderID}
	for _, o := range opts {
		o(&p)
	}
	if err := checkID("order ID", p.OrderID, true); err != nil {
		return nil, fmt.Errorf("order: query: %w", err)
	}
	if err := checkID("order line ID", p.OrderLineID, false); err != nil {
		return nil, fmt.Errorf("order: query %s: %w", p.OrderID, err)
	}
	q := url.Values{"orderId": {p.OrderID}}
	if p.OrderLineID != "" {
		q["orderLineId"] = []string{p.OrderLineID}
	}
	req, err := c.kg.NewRequest(ctx, http.MethodGet, QueryPath, q, nil)
	if err != nil {
		return nil, fmt.Errorf("order: query %s: %w", p.OrderID, err)
	}
	var resp queryResponse
	if err := c.kg.Do(ctx, req, &resp); err != nil {
		if notFound(err) {
			err = &notFoundError{err: err}
		}
		return nil, fmt.Errorf("order: query %s: %w", p.OrderID, err)
	}
	if resp.OrderInfo == nil {
		// A fresh error each time: callers may inspect and keep it.
		return nil, fmt.Errorf("order: query %s: %w", p.OrderID, &koogallery.APIError{
			StatusCode: http.StatusOK, Code: resp.ResultCode, Method: http.MethodGet, Path: QueryPath,
			Message: "successful response without orderInfo"})
	}
	return resp.OrderInfo, nil
}

func checkID(what, id string, required bool) error {
	switch {
	case id == "" && required:
		return fmt.Errorf("%w: %s is empty", koogallery.ErrInvalidRequest, what)
	case utf8.RuneCountInString(id) > maxIDLen:
		return fmt.Errorf("%w: %s is longer than %d characters", koogallery.ErrInvalidRequest, what, maxIDLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: %s is not valid UTF-8", koogallery.ErrInvalidRequest, what)
	}
	return nil
}

// notFound reports the answers QueryOrder reads as an unknown order.
func notFound(err error) bool {
	var ae *koogallery.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Code {
	case "MKT.0100", "CBC.0100", "MKT.9001", "CBC.9001":
		return true
	}
	return false
}

// notFoundError marks KooGallery's answer for an unknown order.
type notFoundError struct{ err error }

func (e *notFoundError) Error() string { return "order not found: " + e.err.Error() }
func (e *notFoundError) Unwrap() error { return e.err }

// Is matches ErrOrderNotFound and koogallery.ErrNotFound.
func (e *notFoundError) Is(target error) bool {
	return target == ErrOrderNotFound || target == koogallery.ErrNotFound
}
