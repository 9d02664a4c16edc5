package order

import (
	"encoding/json"
	"time"

	"github.com/isvkit/koogallery/internal/wire"
)

// Type is an order type. Unknown values are kept as they arrive.
type Type string

// Order types.
const (
	TypeNew           Type = "NEW"             // new purchase
	TypeTrial         Type = "TRIAL"           // trial
	TypeTrialToFormal Type = "TRIAL_TO_FORMAL" // trial converted to a paid subscription
	TypeUnsubscribe   Type = "UNSUBSCRIBE"     // unsubscription
	TypeRenew         Type = "RENEW"           // renewal
	TypeChange        Type = "CHANGE"          // change or upgrade
)

// ChargingMode is how an order line is charged. Unknown values are kept.
type ChargingMode string

// Charging modes.
const (
	ChargingModeOnDemand        ChargingMode = "ON_DEMAND"     // pay per use
	ChargingModeOneTime         ChargingMode = "ONE_TIME"      // one-time
	ChargingModePeriod          ChargingMode = "PERIOD"        // yearly or monthly
	ChargingModeOnDemandPackage ChargingMode = "ON_DEMAND_PKG" // pay-per-use package
)

// PeriodType is the unit of a subscription period. The documented
// enumeration is not public; "year" is observed, the others inferred.
type PeriodType string

// Period types.
const (
	PeriodYear  PeriodType = "year"
	PeriodMonth PeriodType = "month"
	PeriodDay   PeriodType = "day"
)

// Order is a KooGallery order (orderInfo of the query-order API).
type Order struct {
	OrderID   string `json:"orderId"`
	OrderType Type   `json:"orderType"`
	// CreateTime is when the buyer placed the order (not when it takes
	// effect). The API does not state its time zone; it is read as UTC.
	CreateTime   time.Time     `json:"createTime"`
	OrderLines   []OrderLine   `json:"orderLine"`
	BuyerInfo    *BuyerInfo    `json:"buyerInfo,omitempty"`
	ExtendParams []ExtendParam `json:"extendParams,omitempty"`
}

// OrderLine is one line of an order.
type OrderLine struct {
	OrderLineID  string       `json:"orderLineId"`
	ChargingMode ChargingMode `json:"chargingMode"`
	PeriodType   PeriodType   `json:"periodType,omitempty"`
	PeriodNumber int          `json:"periodNumber,omitempty"`
	// ExpireTime is when a period subscription expires (UTC; zero when
	// absent).
	ExpireTime   time.Time     `json:"expireTime"`
	ProductInfo  []ProductInfo `json:"productInfo"`
	ExtendParams []ExtendParam `json:"extendParams,omitempty"`
	// Currency is the list amount and CurrencyAfterDiscount the amount
	// after discount, as decimal text exactly as sent (the unit is not
	// documented; the live service sends strings such as "100").
	Currency              string `json:"currency,omitempty"`
	CurrencyAfterDiscount string `json:"currencyAfterDiscount,omitempty"`
}

// ProductInfo is the product and SKU bought on an order line.
type ProductInfo struct {
	// ProductID differs per period type under one SKU.
	ProductID string `json:"productId"`
	// SKUCode is the specification code, stable across period changes.
	SKUCode string `json:"skuCode"`
	// LinearValue is the quantity attribute of the specification.
	LinearValue int    `json:"linearValue,omitempty"`
	ProductName string `json:"productName,omitempty"`
}

// BuyerInfo describes the buyer. Fields the service sends as null are "".
type BuyerInfo struct {
	CustomerID       string `json:"customerId"`
	CustomerName     string `json:"customerName,omitempty"`
	CustomerRealName string `json:"customerRealName,omitempty"`
	// CustomerType is the numeric customer type (its enumeration is not
	// documented).
	CustomerType int    `json:"customerType"`
	MobilePhone  string `json:"mobilePhone,omitempty"`
	Email        string `json:"email,omitempty"`
	UserID       string `json:"userId,omitempty"`
	UserName     string `json:"userName,omitempty"`
}

// ExtendParam is a name/value extension parameter.
type ExtendParam struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Param returns the value of the named extension parameter, if present.
func Param(params []ExtendParam, name string) (string, bool) {
	for _, p := range params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// The JSON methods below read the wire format tolerantly (numbers sent as
// strings and the reverse, nulls, unknown fields) and write it back in the
// documented layout, so an Order survives a round trip through storage.
// Decoding goes through a mirror tree of tolerant leaf types in one pass of
// encoding/json, however deep the document.

type wireOrder struct {
	OrderID      wire.String `json:"orderId"`
	OrderType    wire.String `json:"orderType"`
	CreateTime   wire.Time   `json:"createTime"`
	OrderLine    []wireLine  `json:"orderLine"`
	BuyerInfo    *wireBuyer  `json:"buyerInfo"`
	ExtendParams []wireParam `json:"extendParams"`
}

type wireLine struct {
	OrderLineID           wire.String   `json:"orderLineId"`
	ChargingMode          wire.String   `json:"chargingMode"`
	PeriodType            wire.String   `json:"periodType"`
	PeriodNumber          wire.Int      `json:"periodNumber"`
	ExpireTime            wire.Time     `json:"expireTime"`
	ProductInfo           []wireProduct `json:"productInfo"`
	ExtendParams          []wireParam   `json:"extendParams"`
	Currency              wire.String   `json:"currency"`
	CurrencyAfterDiscount wire.String   `json:"currencyAfterDiscount"`
}

type wireProduct struct {
	ProductID   wire.String `json:"productId"`
	SKUCode     wire.String `json:"skuCode"`
	LinearValue wire.Int    `json:"linearValue"`
	ProductName wire.String `json:"productName"`
}

type wireBuyer struct {
	CustomerID       wire.String `json:"customerId"`
	CustomerName     wire.String `json:"customerName"`
	CustomerRealName wire.String `json:"customerRealName"`
	CustomerType     wire.Int    `json:"customerType"`
	MobilePhone      wire.String `json:"mobilePhone"`
	Email            wire.String `json:"email"`
	UserID           wire.String `json:"userId"`
	UserName         wire.String `json:"userName"`
}

type wireParam struct {
	Name  wire.String `json:"name"`
	Value wire.String `json:"value"`
}

func (w *wireOrder) order() Order {
	o := Order{
		OrderID: string(w.OrderID), OrderType: Type(w.OrderType), CreateTime: time.Time(w.CreateTime),
		ExtendParams: params(w.ExtendParams),
	}
	if w.OrderLine != nil {
		o.OrderLines = make([]OrderLine, len(w.OrderLine))
		for i := range w.OrderLine {
			o.OrderLines[i] = w.OrderLine[i].line()
		}
	}
	if w.BuyerInfo != nil {
		b := w.BuyerInfo.buyer()
		o.BuyerInfo = &b
	}
	return o
}

func (w *wireLine) line() OrderLine {
	l := OrderLine{
		OrderLineID: string(w.OrderLineID), ChargingMode: ChargingMode(w.ChargingMode), PeriodType: PeriodType(w.PeriodType),
		PeriodNumber: int(w.PeriodNumber), ExpireTime: time.Time(w.ExpireTime), ExtendParams: params(w.ExtendParams),
		Currency: string(w.Currency), CurrencyAfterDiscount: string(w.CurrencyAfterDiscount),
	}
	if w.ProductInfo != nil {
		l.ProductInfo = make([]ProductInfo, len(w.ProductInfo))
		for i := range w.ProductInfo {
			l.ProductInfo[i] = w.ProductInfo[i].product()
		}
	}
	return l
}

func (w *wireProduct) product() ProductInfo {
	return ProductInfo{ProductID: string(w.ProductID), SKUCode: string(w.SKUCode), LinearValue: int(w.LinearValue), ProductName: string(w.ProductName)}
}

func (w *wireBuyer) buyer() BuyerInfo {
	return BuyerInfo{
		CustomerID: string(w.CustomerID), CustomerName: string(w.CustomerName), CustomerRealName: string(w.CustomerRealName),
		CustomerType: int(w.CustomerType), MobilePhone: string(w.MobilePhone), Email: string(w.Email),
		UserID: string(w.UserID), UserName: string(w.UserName),
	}
}

func params(w []wireParam) []ExtendParam {
	if w == nil {
		return nil
	}
	out := make([]ExtendParam, len(w))
	for i, p := range w {
		out[i] = ExtendParam{Name: string(p.Name), Value: string(p.Value)}
	}
	return out
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *Order) UnmarshalJSON(b []byte) error {
	var w wireOrder
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*o = w.order()
	return nil
}

// MarshalJSON implements json.Marshaler.
func (o Order) MarshalJSON() ([]byte, error) {
	type plain Order
	return json.Marshal(struct {
		plain
		CreateTime string `json:"createTime,omitempty"`
	}{plain(o), wire.FormatSeconds(o.CreateTime)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (l *OrderLine) UnmarshalJSON(b []byte) error {
	var w wireLine
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*l = w.line()
	return nil
}

// MarshalJSON implements json.Marshaler.
func (l OrderLine) MarshalJSON() ([]byte, error) {
	type plain OrderLine
	return json.Marshal(struct {
		plain
		ExpireTime string `json:"expireTime,omitempty"`
	}{plain(l), wire.FormatSeconds(l.ExpireTime)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *ProductInfo) UnmarshalJSON(b []byte) error {
	var w wireProduct
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = w.product()
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (bi *BuyerInfo) UnmarshalJSON(b []byte) error {
	var w wireBuyer
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*bi = w.buyer()
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *ExtendParam) UnmarshalJSON(b []byte) error {
	var w wireParam
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = ExtendParam{Name: string(w.Name), Value: string(w.Value)}
	return nil
}
