package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HTTP talks to the v2 HTTP API (/api/v2/write, /api/v2/query), which
// InfluxDB 2.x and 1.8 both serve, with plain net/http: the body of a write
// is the batch's bytes as rendered, with no copy into strings. The fast
// importer writes over it; everything else goes through Store.
type HTTP struct {
	cfg      Config
	http     *http.Client
	retry    Retry
	writeURL string
	nanoURL  string // writes with precision ns (observation_report)
	queryURL string
	onRetry  func(err error, wait time.Duration)
}

// NewHTTP opens a client for conns concurrent requests (a cfg.Timeout of 0
// bounds each request by 2 minutes); retryable failures are retried with
// retry, each reported to onRetry when set.
func NewHTTP(cfg Config, conns int, retry Retry, onRetry func(error, time.Duration)) *HTTP {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	base := strings.TrimRight(cfg.URL, "/")
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: conns + 1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &HTTP{
		cfg:      cfg,
		http:     &http.Client{Transport: tr, Timeout: cfg.Timeout},
		retry:    retry.withDefaults(),
		writeURL: base + "/api/v2/write?" + url.Values{"org": {cfg.Org}, "bucket": {cfg.Bucket}, "precision": {"s"}}.Encode(),
		nanoURL:  base + "/api/v2/write?" + url.Values{"org": {cfg.Org}, "bucket": {cfg.Bucket}, "precision": {"ns"}}.Encode(),
		queryURL: base + "/api/v2/query?" + url.Values{"org": {cfg.Org}}.Encode(),
		onRetry:  onRetry,
	}
}

// Close releases idle connections.
func (c *HTTP) Close() { c.http.CloseIdleConnections() }

// retried tells onRetry, when set, of a retry.
func (c *HTTP) retried(_ int, err error, wait time.Duration) {
	if c.onRetry != nil {
		c.onRetry(err, wait)
	}
}

// Write POSTs one batch of line protocol, retrying retryable failures.
// A point is identified by series and time, so a repeated batch changes
// nothing.
func (c *HTTP) Write(ctx context.Context, body []byte, points int) error {
	return c.write(ctx, c.writeURL, body, points)
}

// WriteReports is Write for observation_report lines (AppendReport), whose
// times are in nanoseconds.
func (c *HTTP) WriteReports(ctx context.Context, body []byte, points int) error {
	return c.write(ctx, c.nanoURL, body, points)
}

func (c *HTTP) write(ctx context.Context, url string, body []byte, points int) error {
	what := fmt.Sprintf("writing %d points to %s", points, c.cfg.Bucket)
	return c.retry.Do(ctx, func(int) error {
		resp, err := c.post(ctx, url, body, what, "Content-Type", "text/plain; charset=utf-8")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			io.Copy(io.Discard, resp.Body)
			return nil
		}
		return statusError(resp, what)
	}, c.retried)
}

// post sends one authorised POST with the given header pairs (name,
// value, ...); a failure to reach InfluxDB is retryable unless ctx ended.
// what names the operation in errors.
func (c *HTTP) post(ctx context.Context, url string, body []byte, what string, header ...string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Token "+c.cfg.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, &RetryableError{Err: fmt.Errorf("%s: %w", what, err)}
	}
	return resp, nil
}

// statusError reads an error answer; 5xx and 429 are retryable.
func statusError(resp *http.Response, what string) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	var body struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	text := strings.TrimSpace(string(msg))
	if json.Unmarshal(msg, &body) == nil {
		if body.Message != "" {
			text = body.Message
		} else if body.Error != "" {
			text = body.Error
		}
	}
	err := fmt.Errorf("%s: %s: %s", what, resp.Status, text)
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return &RetryableError{Err: err}
	}
	return err
}

// Query runs a Flux query and hands its CSV answer (header row, no
// annotations; see ReadFluxCSV) to read, retrying retryable failures,
// read's included.
func (c *HTTP) Query(ctx context.Context, flux string, read func(io.Reader) error) error {
	body, err := json.Marshal(map[string]any{
		"query": flux, "type": "flux",
		"dialect": map[string]any{"header": true, "annotations": []string{}, "delimiter": ",", "dateTimeFormat": "RFC3339"},
	})
	if err != nil {
		return err
	}
	what := "querying " + c.cfg.Bucket
	return c.retry.Do(ctx, func(int) error {
		resp, err := c.post(ctx, c.queryURL, body, what, "Content-Type", "application/json", "Accept", "text/csv")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return statusError(resp, what)
		}
		return read(resp.Body)
	}, c.retried)
}
