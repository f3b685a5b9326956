package collectors

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the per-collector series of internal/METRICS.md.
type metrics struct {
	lastRun     *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	duration    *prometheus.GaugeVec
	nextRun     *prometheus.GaugeVec
	samples     *prometheus.CounterVec
	errors      *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	label := []string{"collector"}
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, label)
	}
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, label)
	}
	m := &metrics{
		lastRun: gauge("qualitymon_collector_last_run_timestamp_seconds",
			"When the collector's last run started (Unix seconds)."),
		lastSuccess: gauge("qualitymon_collector_last_success_timestamp_seconds",
			"When the collector's last run without any error ended (Unix seconds)."),
		duration: gauge("qualitymon_collector_last_duration_seconds",
			"How long the collector's last run took, including handing its batches to the spool."),
		nextRun: gauge("qualitymon_collector_next_run_timestamp_seconds",
			"When the collector is next scheduled to run (Unix seconds)."),
		samples: counter("qualitymon_collector_samples_total",
			"Observations the collector delivered that the sink accepted (derived ones included)."),
		errors: counter("qualitymon_collector_errors_total",
			"Failed runs, rejected batches and batches the sink refused."),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.lastRun, m.lastSuccess, m.duration, m.nextRun, m.samples, m.errors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// init creates the series of one collector so that they exist (at 0) before
// its first run.
func (m *metrics) init(name string) {
	m.samples.WithLabelValues(name)
	m.errors.WithLabelValues(name)
}
