package order_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

func newClient(t *testing.T) (*koogallerytest.Server, *order.Client) {
	t.Helper()
	fake := koogallerytest.NewServer()
	t.Cleanup(fake.Close)
	kg, err := fake.NewClient()
	require.NoError(t, err)
	return fake, order.NewClient(kg)
}

// capturedOrder is the captured MOCKPERIODYEARNEW response, typed.
var capturedOrder = &order.Order{
	OrderID:    "MOCKPERIODYEARNEW",
	OrderType:  order.TypeNew,
	CreateTime: time.Date(2024, 11, 21, 9, 8, 46, 0, time.UTC),
	OrderLines: []order.OrderLine{{
		OrderLineID:  "MOCKPERIODYEARNEW-000001",
		ChargingMode: order.ChargingModePeriod,
		PeriodType:   order.PeriodYear,
		PeriodNumber: 1,
		ExpireTime:   time.Date(2025, 11, 21, 23, 59, 59, 0, time.UTC),
		ProductInfo: []order.ProductInfo{{
			ProductID:   "OFFI846204237451911168",
			SKUCode:     "0a4d1578-5295-46a7-92d4-7c803dccc51d",
			LinearValue: 50,
			ProductName: "MOCK测试商品,测试规格,基础版,包周期",
		}},
		ExtendParams:          []order.ExtendParam{{Name: "emailDomainName", Value: "test.xxxx.com"}, {Name: "ip", Value: "127.0.0.1"}},
		Currency:              "100",
		CurrencyAfterDiscount: "100",
	}},
	BuyerInfo: &order.BuyerInfo{
		CustomerID:       "459bbbec25d24749b2eb83be37b602a8",
		CustomerName:     "mock_user_01",
		CustomerRealName: "测试用户1",
		CustomerType:     0,
		MobilePhone:      "18688888888",
	},
	ExtendParams: []order.ExtendParam{},
}

func TestQueryOrderReturnsEveryCapturedField(t *testing.T) {
	t.Parallel()
	fake, orders := newClient(t)
	got, err := orders.QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.NoError(t, err)
	assert.Equal(t, capturedOrder, got)

	reqs := fake.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "GET", reqs[0].Method)
	assert.Equal(t, order.QueryPath, reqs[0].Path)
	assert.Equal(t, "MOCKPERIODYEARNEW", reqs[0].Query.Get("orderId"))
	assert.False(t, reqs[0].Query.Has("orderLineId"))
	assert.NoError(t, reqs[0].AuthError)
	assert.Equal(t, "application/json;charset=UTF-8", reqs[0].Header.Get("Content-Type"))
	assert.Contains(t, reqs[0].Header.Get("Authorization"), "SignedHeaders=content-type;host;x-sdk-date,")
}

func TestQueryEveryMockOrder(t *testing.T) {
	t.Parallel()
	_, orders := newClient(t)
	types := map[string]order.Type{
		"MOCKPERIODYEARNEW": order.TypeNew, "MOCKONETIMENEW": order.TypeNew, "MOCKONDEMAND": order.TypeNew,
		"MOCKONDEMANDPKG": order.TypeNew, "MOCKPERIODDAYTRIAL": order.TypeTrial, "MOCKMONTYTRIALTOFORMAL": order.TypeTrialToFormal,
		"MOCKMONTYUNSUBSCRIBE": order.TypeUnsubscribe, "MOCKMONTYRENEW": order.TypeRenew, "MOCKMONTYCHANGE": order.TypeChange,
	}
	require.Len(t, koogallerytest.MockOrderIDs, 9)
	for _, id := range koogallerytest.MockOrderIDs {
		o, err := orders.QueryOrder(context.Background(), id, order.WithOrderLineID(id+"-000001"))
		require.NoError(t, err, id)
		assert.Equal(t, id, o.OrderID)
		assert.Equal(t, types[id], o.OrderType, id)
		require.Len(t, o.OrderLines, 1, id)
		assert.Equal(t, id+"-000001", o.OrderLines[0].OrderLineID)
		assert.NotEmpty(t, o.OrderLines[0].ChargingMode)
		require.NotEmpty(t, o.OrderLines[0].ProductInfo, id)
		require.NotNil(t, o.BuyerInfo, id)
		assert.False(t, o.CreateTime.IsZero())
	}
}

func TestQueryOrderLineFilter(t *testing.T) {
	t.Parallel()
	fake, orders := newClient(t)
	o := *capturedOrder
	l2 := o.OrderLines[0]
	l2.OrderLineID = "CS1-000002"
	o.OrderID = "CS1"
	o.OrderLines = []order.OrderLine{o.OrderLines[0], l2}
	o.OrderLines[0].OrderLineID = "CS1-000001"
	require.NoError(t, fake.AddOrder(o))

	all, err := orders.QueryOrder(context.Background(), "CS1")
	require.NoError(t, err)
	assert.Len(t, all.OrderLines, 2)
	one, err := orders.QueryOrder(context.Background(), "CS1", order.WithOrderLineID("CS1-000002"))
	require.NoError(t, err)
	require.Len(t, one.OrderLines, 1)
	assert.Equal(t, "CS1-000002", one.OrderLines[0].OrderLineID)
	assert.Equal(t, "CS1-000002", fake.Requests()[1].Query.Get("orderLineId"))

	_, err = orders.QueryOrder(context.Background(), "CS1", order.WithOrderLineID("CS1-000009"))
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	_, err = orders.QueryOrder(context.Background(), "NOSUCHORDER")
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	assert.Contains(t, err.Error(), "order: query NOSUCHORDER: ")
}

func TestQueryOrderValidatesBeforeTheNetwork(t *testing.T) {
	t.Parallel()
	fake, orders := newClient(t)
	for _, id := range []string{"", strings.Repeat("x", 65), "\xff\xfe"} {
		_, err := orders.QueryOrder(context.Background(), id)
		assert.ErrorIs(t, err, koogallery.ErrInvalidRequest, "%q", id)
	}
	_, err := orders.QueryOrder(context.Background(), "OK", order.WithOrderLineID(strings.Repeat("y", 65)))
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	_, err = orders.QueryOrder(context.Background(), strings.Repeat("中", 64))
	var ae *koogallery.APIError
	assert.ErrorAs(t, err, &ae, "64 characters are allowed; the fake then says not found")
	assert.Len(t, fake.Requests(), 1, "only the valid call reached the network")
}

func TestQueryOrderMissingOrderInfo(t *testing.T) {
	t.Parallel()
	fake, orders := newClient(t)
	fake.Inject(koogallerytest.Fault{Status: 200, ContentType: "application/json", Body: []byte(`{"resultCode":"MKT.0000","resultMsg":"Success"}`)})
	_, err := orders.QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	assert.ErrorIs(t, err, koogallery.ErrServer)
	assert.Contains(t, err.Error(), "without orderInfo")
	var ae *koogallery.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, order.QueryPath, ae.Path)

	// Each failure is its own value: changing one does not change the next.
	ae.Message = "changed"
	fake.Inject(koogallerytest.Fault{Status: 200, ContentType: "application/json", Body: []byte(`{"resultCode":"MKT.0000","resultMsg":"Success"}`)})
	_, err = orders.QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	assert.Contains(t, err.Error(), "without orderInfo")
}

// TestDecodingTolerance feeds the shapes the live service is known (or
// allowed) to send: numbers as strings and the reverse, nulls, unknown
// fields and enumeration values, 17-digit times.
func TestDecodingTolerance(t *testing.T) {
	t.Parallel()
	fake, orders := newClient(t)
	fake.AddOrderJSON("TOL1", json.RawMessage(`{"orderId":"TOL1","orderType":"SOMETHING_NEW","createTime":"20241121090846123",
		"newTopLevel":{"x":[1,2]},
		"orderLine":[{"orderLineId":"TOL1-000001","chargingMode":"PER_SECOND","periodType":"week","periodNumber":"3",
			"expireTime":null,"productInfo":[{"productId":123,"skuCode":"s","linearValue":"50","productName":null,"extra":true}],
			"extendParams":[{"name":"n","value":7}],"currency":100.5,"currencyAfterDiscount":"99.5000"}],
		"buyerInfo":{"customerId":"c","customerType":"1","mobilePhone":null,"email":"a@b.c"},
		"extendParams":null}`))
	o, err := orders.QueryOrder(context.Background(), "TOL1")
	require.NoError(t, err)
	assert.Equal(t, order.Type("SOMETHING_NEW"), o.OrderType)
	assert.Equal(t, time.Date(2024, 11, 21, 9, 8, 46, 123e6, time.UTC), o.CreateTime)
	l := o.OrderLines[0]
	assert.Equal(t, order.ChargingMode("PER_SECOND"), l.ChargingMode)
	assert.Equal(t, order.PeriodType("week"), l.PeriodType)
	assert.Equal(t, 3, l.PeriodNumber)
	assert.True(t, l.ExpireTime.IsZero())
	assert.Equal(t, order.ProductInfo{ProductID: "123", SKUCode: "s", LinearValue: 50}, l.ProductInfo[0])
	assert.Equal(t, []order.ExtendParam{{Name: "n", Value: "7"}}, l.ExtendParams)
	assert.Equal(t, "100.5", l.Currency)
	assert.Equal(t, "99.5000", l.CurrencyAfterDiscount)
	assert.Equal(t, &order.BuyerInfo{CustomerID: "c", CustomerType: 1, Email: "a@b.c"}, o.BuyerInfo)
	v, ok := order.Param(l.ExtendParams, "n")
	assert.True(t, ok)
	assert.Equal(t, "7", v)
	_, ok = order.Param(l.ExtendParams, "missing")
	assert.False(t, ok)

	// A field of the wrong shape is a decode error, not a panic or silence.
	fake.AddOrderJSON("BAD1", json.RawMessage(`{"orderId":"BAD1","orderLine":[{"periodNumber":{"x":1}}]}`))
	_, err = orders.QueryOrder(context.Background(), "BAD1")
	assert.ErrorIs(t, err, koogallery.ErrServer)
	assert.Contains(t, err.Error(), "decoding the response failed")
}

func TestOrderJSONRoundTrip(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(capturedOrder)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"createTime":"20241121090846"`)
	assert.Contains(t, string(b), `"expireTime":"20251121235959"`)
	assert.Contains(t, string(b), `"orderLine":[`)
	var back order.Order
	require.NoError(t, json.Unmarshal(b, &back))
	want := *capturedOrder
	want.ExtendParams = nil // an empty list is omitted
	assert.Equal(t, &want, &back)
}

// TestQueryOrderUnknownOrder: what QueryOrder returns for an order (or an
// order line) KooGallery does not know, and how to ask "not found?".
func TestQueryOrderUnknownOrder(t *testing.T) {
	t.Parallel()
	fake, orders := newClient(t)
	for _, c := range []struct {
		id   string
		opts []order.QueryOption
	}{
		{"NOSUCHORDER", nil},
		{"MOCKPERIODYEARNEW", []order.QueryOption{order.WithOrderLineID("MOCKPERIODYEARNEW-999999")}},
	} {
		_, err := orders.QueryOrder(context.Background(), c.id, c.opts...)
		require.Error(t, err)
		assert.ErrorIs(t, err, order.ErrOrderNotFound, c.id)
		assert.ErrorIs(t, err, koogallery.ErrNotFound, c.id)
		assert.ErrorIs(t, err, koogallery.ErrInvalidRequest, "the code's own class still holds")
		var ae *koogallery.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 500, ae.StatusCode)
		assert.Equal(t, "MKT.0100", ae.Code)
		assert.Contains(t, err.Error(), "order: query "+c.id+": order not found: koogallery: GET "+order.QueryPath)
	}
	for _, code := range []string{"MKT.9001", "CBC.9001", "CBC.0100"} {
		fake.Inject(koogallerytest.Fault{Status: 500, Code: code, Message: "x"})
		_, err := orders.QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
		assert.ErrorIs(t, err, order.ErrOrderNotFound, code)
	}
	for _, f := range []koogallerytest.Fault{
		{Status: 401, Code: "MKT.0150", Message: "Illegal operation"},
		{Status: 400, Code: "MKT.0101", Message: "Invalid parameter"},
		{Status: 500, Code: "MKT.0999", Message: "System internal error.", Times: 10},
	} {
		fake.Inject(f)
		_, err := orders.QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
		require.Error(t, err)
		assert.NotErrorIs(t, err, order.ErrOrderNotFound, f.Code)
		assert.NotErrorIs(t, err, koogallery.ErrNotFound, f.Code)
	}
	fake.ClearFaults()
	// Invalid IDs never reach KooGallery and are not "not found".
	_, err := orders.QueryOrder(context.Background(), strings.Repeat("X", 65))
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	assert.NotErrorIs(t, err, order.ErrOrderNotFound)
}
