package dashcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// promClient speaks the Prometheus HTTP API (v1).
type promClient struct {
	base string
	http http.Client
}

// promSample is one series of a vector or matrix.
type promSeries struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
	Values [][2]any          `json:"values"`
}

func (c *promClient) get(ctx context.Context, path string, params url.Values, data any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+params.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("prometheus %s: HTTP %d: %.200s", path, resp.StatusCode, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("prometheus: %s: %s", env.ErrorType, env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

// promResult is the data of a query answer.
type promResult struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// series decodes a vector or matrix; a scalar or string becomes one series
// with no labels (none when the scalar is NaN).
func (r *promResult) series() ([]promSeries, error) {
	switch r.ResultType {
	case "vector", "matrix":
		var s []promSeries
		err := json.Unmarshal(r.Result, &s)
		return s, err
	case "scalar", "string":
		var v [2]any
		if err := json.Unmarshal(r.Result, &v); err != nil {
			return nil, err
		}
		if s, _ := v[1].(string); r.ResultType == "scalar" && isNaN(s) {
			return nil, nil
		}
		return []promSeries{{Metric: map[string]string{}, Value: v}}, nil
	}
	return nil, fmt.Errorf("prometheus: unknown result type %q", r.ResultType)
}

func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

func (c *promClient) instantSeries(ctx context.Context, q string, at time.Time) (*promResult, []promSeries, error) {
	var r promResult
	if err := c.get(ctx, "/api/v1/query", url.Values{"query": {q}, "time": {promTime(at)}}, &r); err != nil {
		return nil, nil, err
	}
	s, err := r.series()
	return &r, s, err
}

func (c *promClient) instant(ctx context.Context, q string, at time.Time) (int, error) {
	_, s, err := c.instantSeries(ctx, q, at)
	return len(s), err
}

func (c *promClient) rangeQuery(ctx context.Context, q string, from, to time.Time, step time.Duration) (int, error) {
	// Prometheus refuses more than 11,000 points per series, as Grafana
	// knows: it widens the step the same way.
	if n := to.Sub(from) / step; n > 11000 {
		step = to.Sub(from) / 11000
	}
	var r promResult
	err := c.get(ctx, "/api/v1/query_range", url.Values{"query": {q}, "start": {promTime(from)}, "end": {promTime(to)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}, &r)
	if err != nil {
		return 0, err
	}
	s, err := r.series()
	return len(s), err
}

func (c *promClient) labelValues(ctx context.Context, label, match string, from, to time.Time) ([]string, error) {
	p := url.Values{"start": {promTime(from)}, "end": {promTime(to)}}
	if match != "" {
		p.Set("match[]", match)
	}
	var vs []string
	err := c.get(ctx, "/api/v1/label/"+url.PathEscape(label)+"/values", p, &vs)
	return vs, err
}

// queryResultText renders an instant result as Grafana's query_result()
// does: `name{a="x",b="y"} value timestamp_ms` per series, or the value of a
// scalar.
func queryResultText(r *promResult, s []promSeries) []string {
	var out []string
	for _, x := range s {
		val, _ := x.Value[1].(string)
		if r.ResultType == "scalar" || r.ResultType == "string" {
			out = append(out, val)
			continue
		}
		keys := make([]string, 0, len(x.Metric))
		for k := range x.Metric {
			if k != "__name__" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString(x.Metric["__name__"])
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%q", k, x.Metric[k])
		}
		b.WriteByte('}')
		ts, _ := x.Value[0].(float64)
		fmt.Fprintf(&b, " %s %d", val, int64(ts*1000))
		out = append(out, b.String())
	}
	return out
}
