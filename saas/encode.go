package saas

import (
	"errors"
	"math"
	"strconv"

	engine "github.com/isvkit/koogallery/internal/callback"
)

var errBadUsageValue = errors.New("saas: QueryInstance returned a usage value that is not a finite number")

// appendInfo appends queryInstance's `,"info":[…]` member (「查询实例信息」),
// omitting empty optional fields.
func appendInfo(dst []byte, info []InstanceInfo) ([]byte, error) {
	dst = append(dst, `,"info":[`...)
	for i, in := range info {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"instanceId":`...)
		dst = engine.AppendString(dst, in.InstanceID)
		if a := in.AppInfo; a != nil {
			dst = append(dst, `,"appInfo":{"frontEndUrl":`...)
			dst = engine.AppendString(dst, a.FrontEndURL)
			dst = appendOptional(dst, "adminUrl", a.AdminURL)
			dst = appendOptional(dst, "userName", a.UserName)
			dst = appendOptional(dst, "password", a.Password)
			dst = appendOptional(dst, "memo", a.Memo)
			dst = append(dst, '}')
		}
		if len(in.UsageInfo) > 0 {
			dst = append(dst, `,"usageInfo":[`...)
			for j, u := range in.UsageInfo {
				if math.IsNaN(u.UsageValue) || math.IsInf(u.UsageValue, 0) {
					return dst, errBadUsageValue
				}
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, '{')
				if u.RelatedInstanceID != "" {
					dst = append(dst, `"relatedInstanceId":`...)
					dst = engine.AppendString(dst, u.RelatedInstanceID)
					dst = append(dst, ',')
				}
				dst = append(dst, `"usageValue":`...)
				dst = appendDecimal4(dst, u.UsageValue)
				dst = append(dst, `,"statisticalTime":"`...)
				dst = engine.AppendTime(dst, u.StatisticalTime)
				dst = append(dst, '"')
				dst = appendOptional(dst, "dashboardUrl", u.DashboardURL)
				dst = append(dst, '}')
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	return append(dst, ']'), nil
}

func appendOptional(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return engine.AppendString(dst, value)
}

// appendDecimal4 appends v rounded to 4 decimals (Double(12,4)) without
// trailing zeros: 1.5, 2, 0.1235.
func appendDecimal4(dst []byte, v float64) []byte {
	start := len(dst)
	dst = strconv.AppendFloat(dst, v, 'f', 4, 64)
	n := len(dst)
	for dst[n-1] == '0' {
		n--
	}
	if dst[n-1] == '.' {
		n--
	}
	dst = dst[:n]
	if string(dst[start:]) == "-0" {
		dst = append(dst[:start], '0')
	}
	return dst
}
