package alerttest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/testenv"
)

// webhookMessage is Alertmanager's webhook payload (version 4), as far as the
// tests read it.
type webhookMessage struct {
	Receiver    string            `json:"receiver"`
	Status      string            `json:"status"`
	Alerts      []webhookAlert    `json:"alerts"`
	GroupLabels map[string]string `json:"groupLabels"`
}

type webhookAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// notification is one webhook call: the URL path names the receiver.
type notification struct {
	Path string
	Msg  webhookMessage
}

// webhook stands in for the alert relay and records every notification.
type webhook struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []notification
}

func newWebhook(t testing.TB) *webhook {
	w := &webhook{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m webhookMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("webhook %s: %v\n%s", r.URL.Path, err, body)
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.got = append(w.got, notification{Path: r.URL.Path, Msg: m})
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// base is the URL that replaces the relay's in the Alertmanager config.
func (w *webhook) base() string { return w.srv.URL + "/" }

func (w *webhook) all() []notification {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]notification(nil), w.got...)
}

// wait waits for a notification to path holding an alert that matches;
// on timeout it fails with what was received and diag().
func (w *webhook) wait(t testing.TB, timeout time.Duration, desc, path string, match func(webhookAlert) bool, diag func() string) (notification, webhookAlert) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, n := range w.all() {
			if n.Path != path {
				continue
			}
			for _, a := range n.Msg.Alerts {
				if match(a) {
					return n, a
				}
			}
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, n := range w.all() {
				for _, a := range n.Msg.Alerts {
					fmt.Fprintf(&b, "  %s %s %s %v\n", n.Path, a.Status, a.Labels["alertname"], a.Labels)
				}
			}
			extra := ""
			if diag != nil {
				extra = diag()
			}
			t.Fatalf("no %s at %s within %s; received:\n%s%s", desc, path, timeout, b.String(), extra)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var groupTimer = regexp.MustCompile(`(?m)^(\s+)(group_wait|group_interval):[ \t]*\S+[ \t]*$`)

// alertmanagerConfig is the repository's alertmanager.yml with every
// receiver pointed at relay instead of the alert relay and group_wait and
// group_interval cut to a second; routes, receivers and inhibitions are
// unchanged.
func alertmanagerConfig(t testing.TB, root, relay string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, alertmanagerFile))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, relayBase) {
		t.Fatalf("%s: no receiver posts to %s", alertmanagerFile, relayBase)
	}
	s = strings.ReplaceAll(s, relayBase, relay)
	s = groupTimer.ReplaceAllString(s, "${1}${2}: 1s")
	return []byte(s)
}

// startAlertmanager runs the real Alertmanager with config, without
// clustering, and returns its URL.
func startAlertmanager(t testing.TB, dir string, config []byte) (*testenv.Process, string) {
	t.Helper()
	bin := tool(t, "prometheus-alertmanager", "alertmanager")
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, config, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := testenv.FreeAddr(t)
	p := testenv.StartProcess(t, dir, "alertmanager", nil, bin,
		"--config.file="+cfg,
		"--storage.path="+filepath.Join(dir, "alertmanager-data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
		"--log.level=debug",
	)
	url := "http://" + addr
	testenv.WaitHTTP(t, p, url+"/-/ready", 30*time.Second)
	return p, url
}
