// Package order holds kgctl order: query an order through the open API.
package order

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/order"
)

// OrderOptions are kgctl order's inputs.
type OrderOptions struct {
	IO         *cmdutil.IOStreams
	Getenv     func(string) string
	Ctx        context.Context
	HTTPClient *http.Client // nil: the SDK's default

	API     cmdutil.APIFlags
	OrderID string
	Line    string
	JSON    bool
}

// NewCmdOrder returns kgctl order; runF replaces the run function in tests
// (nil: orderRun).
func NewCmdOrder(f *cmdutil.Factory, runF func(*OrderOptions) error) *cobra.Command {
	opts := &OrderOptions{IO: f.IOStreams, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "order ORDER_ID",
		Short: "Query an order (QueryOrder) and print it",
		Long: `order calls the query-order open API (GET /api/mkp-openapi-public/global/v1/order/query), signed
with your AK/SK, and prints the order as a summary, or as JSON with --json. The documented mock
orders (MOCKPERIODYEARNEW, MOCKONETIMENEW, MOCKONDEMAND, ...) work on the real service and on
kgctl fake.

The AK/SK come from HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or --ak with --sk-file), a
security token from HUAWEICLOUD_SDK_SECURITY_TOKEN.`,
		Example: `  kgctl order MOCKPERIODYEARNEW
  kgctl order CS2611270001ABCDE --line CS2611270001ABCDE-000001 --json
  KOOGALLERY_ENDPOINT=http://127.0.0.1:8800/koogallerytest kgctl order MOCKONDEMAND   # against kgctl fake`,
		Args: cmdutil.ExactArgs(1, "order takes one ORDER_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx, opts.OrderID = cmd.Context(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return orderRun(opts)
		},
	}
	opts.API.Register(cmd)
	cmd.Flags().StringVar(&opts.Line, "line", "", "only this order line")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the order as JSON")
	return cmd
}

func orderRun(opts *OrderOptions) error {
	var extra []koogallery.Option
	if opts.HTTPClient != nil {
		extra = append(extra, koogallery.WithHTTPClient(opts.HTTPClient))
	}
	kg, err := opts.API.Client(opts.Getenv, extra...)
	if err != nil {
		return err
	}
	var qopts []order.QueryOption
	if opts.Line != "" {
		qopts = append(qopts, order.WithOrderLineID(opts.Line))
	}
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	o, err := order.NewClient(kg).QueryOrder(ctx, opts.OrderID, qopts...)
	if err != nil {
		return cmdutil.APIFailure(err)
	}
	if opts.JSON {
		if err := cmdutil.WriteJSON(opts.IO.Out, o); err != nil {
			return cmdutil.RunErr(err)
		}
		return nil
	}
	printOrder(opts.IO.Out, o)
	return nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func printOrder(w io.Writer, o *order.Order) {
	fmt.Fprintf(w, "Order %s  type %s  created %s\n", o.OrderID, o.OrderType, fmtTime(o.CreateTime))
	if b := o.BuyerInfo; b != nil {
		fmt.Fprintf(w, "  buyer     customer %s", b.CustomerID)
		for _, kv := range [][2]string{{"name", b.CustomerName}, {"real name", b.CustomerRealName}, {"user", b.UserName}, {"phone", b.MobilePhone}, {"email", b.Email}} {
			if kv[1] != "" {
				fmt.Fprintf(w, ", %s %s", kv[0], kv[1])
			}
		}
		fmt.Fprintln(w)
	}
	printParams(w, "  ", o.ExtendParams)
	for _, l := range o.OrderLines {
		printLine(w, l)
	}
}

func printLine(w io.Writer, l order.OrderLine) {
	fmt.Fprintf(w, "  line %s  %s", l.OrderLineID, l.ChargingMode)
	if l.PeriodType != "" {
		fmt.Fprintf(w, " %d %s", l.PeriodNumber, l.PeriodType)
	}
	fmt.Fprintf(w, "  expires %s", fmtTime(l.ExpireTime))
	if l.Currency != "" {
		fmt.Fprintf(w, "  amount %s (after discount %s)", l.Currency, l.CurrencyAfterDiscount)
	}
	fmt.Fprintln(w)
	for _, p := range l.ProductInfo {
		fmt.Fprintf(w, "    product %s  sku %s", p.ProductID, p.SKUCode)
		if p.LinearValue != 0 {
			fmt.Fprintf(w, "  linear %d", p.LinearValue)
		}
		if p.ProductName != "" {
			fmt.Fprintf(w, "  %s", p.ProductName)
		}
		fmt.Fprintln(w)
	}
	printParams(w, "    ", l.ExtendParams)
}

func printParams(w io.Writer, indent string, ps []order.ExtendParam) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(w, "%sextend   ", indent)
	for _, p := range ps {
		fmt.Fprintf(w, " %s=%s", p.Name, p.Value)
	}
	fmt.Fprintln(w)
}
