package order_test

import (
	"encoding/json"
	"testing"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

// FuzzOrderJSON decodes arbitrary bytes as an order: it must never panic,
// and whatever decodes must survive a marshal/unmarshal round trip.
func FuzzOrderJSON(f *testing.F) {
	f.Add([]byte(koogallerytest.CapturedMockOrder))
	f.Add([]byte(`{"orderId":1,"orderLine":[{"periodNumber":"3","expireTime":"20241121090846123","productInfo":[{"linearValue":"x"}]}]}`))
	f.Add([]byte(`{"createTime":"2024112109084","buyerInfo":null,"orderLine":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var o order.Order
		if json.Unmarshal(data, &o) != nil {
			return
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatalf("marshal a decoded order: %v", err)
		}
		var back order.Order
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if back.OrderID != o.OrderID || len(back.OrderLines) != len(o.OrderLines) || !back.CreateTime.Equal(o.CreateTime.Truncate(1e9)) {
			t.Fatalf("round trip changed the order: %+v vs %+v", o, back)
		}
	})
}
