// Package alerttest proves qualitymon's alerting with the real tools: the
// Prometheus rules in dashboards/alerts and the Alertmanager configuration in
// dashboards/alertmanager.
//
// The package holds only tests:
//
//   - promtool check rules and promtool test rules over
//     dashboards/alerts/tests/*.yml, and a check that every alert has a unit
//     test where it fires and one where it does not;
//   - amtool check-config, amtool config routes test for a table of label
//     sets and for every lead agency named in targets/*.yaml;
//   - a real Alertmanager fed alerts through its API, proving routing and
//     inhibition;
//   - an end-to-end test: a real InfluxDB (internal/testenv), `qualitymon
//     serve`, a real Prometheus scraping it with the rules and a real
//     Alertmanager delivering to a test webhook; a figure that misses its
//     target is imported, the alert arrives at the lead agency's receiver, a
//     corrected figure resolves it.
//
// The tools come from Debian's prometheus and prometheus-alertmanager
// packages (promtool, prometheus, amtool, prometheus-alertmanager; upstream's
// alertmanager binary name is accepted too). When one is missing the tests
// are skipped, unless CI=true, where they fail.
package alerttest
