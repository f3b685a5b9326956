// Package dashcheck checks qualitymon's Grafana dashboards and provisioning
// files, because Grafana itself runs on no development machine.
//
// [Load] parses dashboards/*.json, provisioning/datasources/*.yml and
// provisioning/dashboards/*.yml under a Grafana directory
// (dashboards/grafana in the repository); [Set.Check] verifies the structure
// offline: unique uids, every panel's datasource provisioned, every query's
// template variables defined, units, titles and descriptions set.
//
// [Live] then runs every variable and panel query, after the substitutions
// Grafana makes (template variables, $__interval, $__rate_interval,
// $__range, and the Flux macros v.timeRangeStart, v.timeRangeStop,
// v.windowPeriod and v.defaultBucket), against a real Prometheus
// (/api/v1/query, /api/v1/query_range, /api/v1/label/…/values) and a real
// InfluxDB (/api/v2/query, Flux), and reports per query whether it failed
// and how many series or rows it returned.
package dashcheck
