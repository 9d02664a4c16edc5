package order

import (
	"context"
	"fmt"
	"net/http"
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
	OrderID     string `url:"orderId"`
	OrderLineID string `url:"orderLineId,omitempty"`
}

type queryResponse struct {
	koogallery.Result
	OrderInfo *Order `json:"orderInfo"`
}

// maxIDLen is the documented maximum length of order and order-line IDs.
const maxIDLen = 64

// QueryOrder returns the order with the given ID: typically called after an
// order notification or a newInstance callback, which carry only IDs.
// Invalid IDs fail before any network call with an error matching
// koogallery.ErrInvalidRequest; failures reported by KooGallery are
// *koogallery.APIError values (errors.Is against the koogallery sentinels).
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
	req, err := c.kg.NewRequest(ctx, http.MethodGet, QueryPath, p, nil)
	if err != nil {
		return nil, fmt.Errorf("order: query %s: %w", p.OrderID, err)
	}
	var resp queryResponse
	if err := c.kg.Do(ctx, req, &resp); err != nil {
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
