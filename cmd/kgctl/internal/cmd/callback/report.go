package callback

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"
)

// ExchangeJSON is one call and its answer in --json output (which kgctl
// verify reads back as a capture).
type ExchangeJSON struct {
	Request struct {
		Method string      `json:"method"`
		URL    string      `json:"url"`
		Header http.Header `json:"header,omitempty"`
		Body   string      `json:"body,omitempty"`
	} `json:"request"`
	Answer struct {
		Error      string      `json:"error,omitempty"`
		Status     int         `json:"status,omitempty"`
		Header     http.Header `json:"header,omitempty"`
		Body       string      `json:"body,omitempty"`
		DurationMS int64       `json:"durationMs"`
	} `json:"answer"`
}

func reportExchanges(w io.Writer, asJSON bool, xs []*exchange.Exchange, checks []exchange.Check) error {
	failed := 0
	for _, c := range checks {
		if !c.Pass && !c.Skipped {
			failed++
		}
	}
	if asJSON {
		out := struct {
			Exchanges []ExchangeJSON   `json:"exchanges"`
			Checks    []exchange.Check `json:"checks"`
			Passed    bool             `json:"passed"`
		}{Checks: checks, Passed: failed == 0}
		for _, x := range xs {
			out.Exchanges = append(out.Exchanges, toJSON(x))
		}
		if err := cmdutil.WriteJSON(w, out); err != nil {
			return cmdutil.RunErr(err)
		}
	} else {
		for _, x := range xs {
			printExchange(w, x)
		}
		exchange.PrintChecks(w, checks)
	}
	if failed > 0 {
		return cmdutil.ErrFailed
	}
	return nil
}

func toJSON(x *exchange.Exchange) ExchangeJSON {
	var e ExchangeJSON
	e.Request.Method, e.Request.URL, e.Request.Header, e.Request.Body = x.Method, x.URL, x.Header, string(x.Body)
	if x.Err != nil {
		e.Answer.Error = x.Err.Error()
	}
	e.Answer.Status, e.Answer.Header, e.Answer.Body, e.Answer.DurationMS = x.Status, x.RespHeader, string(x.Answer), x.Duration.Milliseconds()
	return e
}

func printExchange(w io.Writer, x *exchange.Exchange) {
	fmt.Fprintf(w, "> %s %s\n", x.Method, x.URL)
	cmdutil.PrintHeader(w, "> ", x.Header)
	if len(x.Body) > 0 {
		fmt.Fprintf(w, "> \n> %s\n", x.Body)
	}
	if x.Err != nil {
		fmt.Fprintf(w, "< (no answer after %v) %v\n\n", x.Duration.Round(time.Millisecond), x.Err)
		return
	}
	fmt.Fprintf(w, "< HTTP %d %s (%v)\n", x.Status, http.StatusText(x.Status), x.Duration.Round(time.Millisecond))
	h := http.Header{}
	for _, k := range []string{"Content-Type", "Body-Sign"} {
		if v := x.RespHeader.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
	cmdutil.PrintHeader(w, "< ", h)
	fmt.Fprintf(w, "< \n< %s\n\n", x.Answer)
}
