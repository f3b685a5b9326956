package cli

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/config"
)

// alertingMetrics carry the alerting section of the config to the alert
// rules (dashboards/alerts/qualitymon.rules.yml): the runbook and Grafana
// base URLs for their runbook_url and dashboard_url annotations, and how long
// a target that settled as missed keeps alerting.
func alertingMetrics(a config.Alerting) []prometheus.Collector {
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "qualitymon_alerting_info",
		Help:        "1; the alerting settings of qualitymon.yaml as labels, read by the alert rules' annotations.",
		ConstLabels: prometheus.Labels{"runbook_base_url": a.RunbookBaseURL, "grafana_url": a.GrafanaURL}})
	info.Set(1)
	window := prometheus.NewGauge(prometheus.GaugeOpts{Name: "qualitymon_alerting_settled_notify_window_seconds",
		Help: "How long after a target settles as missed its alert keeps firing (alerting.settled_notify_window)."})
	window.Set(time.Duration(a.SettledNotifyWindow).Seconds())
	return []prometheus.Collector{info, window}
}
