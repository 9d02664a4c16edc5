package koogallerytest

import (
	"encoding/json"
	"slices"
)

// MockOrderIDs are the documented debug order IDs: querying them returns
// canned orders (the line ID of each is the order ID + "-000001").
var MockOrderIDs = []string{
	"MOCKPERIODYEARNEW",      // new purchase, yearly/monthly
	"MOCKONETIMENEW",         // new purchase, one-time
	"MOCKONDEMAND",           // new purchase, pay-per-use
	"MOCKONDEMANDPKG",        // new purchase, pay-per-use package
	"MOCKPERIODDAYTRIAL",     // trial
	"MOCKMONTYTRIALTOFORMAL", // trial to formal
	"MOCKMONTYUNSUBSCRIBE",   // unsubscription
	"MOCKMONTYRENEW",         // renewal
	"MOCKMONTYCHANGE",        // change or upgrade
}

// CapturedMockOrder is the orderInfo of a real 查询订单 response for
// MOCKPERIODYEARNEW (public seller sample code, 2024), byte for byte.
const CapturedMockOrder = `{"orderId":"MOCKPERIODYEARNEW","orderType":"NEW","createTime":"20241121090846",` +
	`"orderLine":[{"orderLineId":"MOCKPERIODYEARNEW-000001","chargingMode":"PERIOD","periodType":"year","periodNumber":1,` +
	`"expireTime":"20251121235959",` +
	`"productInfo":[{"productId":"OFFI846204237451911168","skuCode":"0a4d1578-5295-46a7-92d4-7c803dccc51d",` +
	`"linearValue":50,"productName":"MOCK测试商品,测试规格,基础版,包周期"}],` +
	`"extendParams":[{"name":"emailDomainName","value":"test.xxxx.com"},{"name":"ip","value":"127.0.0.1"}],` +
	`"currency":"100","currencyAfterDiscount":"100"}],` +
	`"buyerInfo":{"mobilePhone":"18688888888","email":null,"customerId":"459bbbec25d24749b2eb83be37b602a8",` +
	`"customerName":"mock_user_01","customerRealName":"测试用户1","customerType":0,"userId":null,"userName":null},` +
	`"extendParams":[]}`

// mockOrders builds the nine mock orders. Only MOCKPERIODYEARNEW was
// captured from the live service; the others follow its shape with the
// scenario's order type, charging mode and period (their live bodies are not
// published).
func mockOrders() map[string]json.RawMessage {
	type variant struct {
		orderType, chargingMode, periodType string
		periodNumber                        int
		expire, currency, name              string
		linear                              int
	}
	variants := map[string]variant{
		"MOCKONETIMENEW":         {"NEW", "ONE_TIME", "", 0, "", "100", "按次", 1},
		"MOCKONDEMAND":           {"NEW", "ON_DEMAND", "", 0, "", "0", "按需", 0},
		"MOCKONDEMANDPKG":        {"NEW", "ON_DEMAND_PKG", "", 0, "20251121235959", "500", "按需套餐包", 1000},
		"MOCKPERIODDAYTRIAL":     {"TRIAL", "PERIOD", "day", 7, "20241128235959", "0", "试用", 50},
		"MOCKMONTYTRIALTOFORMAL": {"TRIAL_TO_FORMAL", "PERIOD", "month", 1, "20241221235959", "10", "包周期", 50},
		"MOCKMONTYUNSUBSCRIBE":   {"UNSUBSCRIBE", "PERIOD", "month", 1, "20241121235959", "-10", "包周期", 50},
		"MOCKMONTYRENEW":         {"RENEW", "PERIOD", "month", 1, "20250121235959", "10", "包周期", 50},
		"MOCKMONTYCHANGE":        {"CHANGE", "PERIOD", "month", 1, "20241221235959", "20", "包周期,高级版", 100},
	}
	out := map[string]json.RawMessage{"MOCKPERIODYEARNEW": json.RawMessage(CapturedMockOrder)}
	for id, v := range variants {
		line := map[string]any{
			"orderLineId":  id + "-000001",
			"chargingMode": v.chargingMode,
			"productInfo": []map[string]any{{
				"productId": "OFFI846204237451911168", "skuCode": "0a4d1578-5295-46a7-92d4-7c803dccc51d",
				"linearValue": v.linear, "productName": "MOCK测试商品,测试规格,基础版," + v.name,
			}},
			"extendParams":          []map[string]string{{"name": "emailDomainName", "value": "test.xxxx.com"}, {"name": "ip", "value": "127.0.0.1"}},
			"currency":              v.currency,
			"currencyAfterDiscount": v.currency,
		}
		if v.periodType != "" {
			line["periodType"], line["periodNumber"] = v.periodType, v.periodNumber
		}
		if v.expire != "" {
			line["expireTime"] = v.expire
		}
		info := map[string]any{
			"orderId": id, "orderType": v.orderType, "createTime": "20241121090846",
			"orderLine": []any{line},
			"buyerInfo": map[string]any{"mobilePhone": "18688888888", "email": nil, "customerId": "459bbbec25d24749b2eb83be37b602a8",
				"customerName": "mock_user_01", "customerRealName": "测试用户1", "customerType": 0, "userId": nil, "userName": nil},
			"extendParams": []any{},
		}
		raw, err := json.Marshal(info)
		if err != nil {
			panic(err) // static data
		}
		out[id] = raw
	}
	return out
}

// IsMockOrder reports whether id is one of the documented mock order IDs.
func IsMockOrder(id string) bool {
	return slices.Contains(MockOrderIDs, id)
}
