// Package composecheck holds the test of docker-compose.yml: the file is
// loaded with the compose-spec parser (github.com/compose-spec/compose-go/v2)
// and .env.example as its environment, and checked against the repository
// and qualitymon's own configuration: every mounted path exists, every
// service has a health check, qualitymon's InfluxDB settings and listen port
// agree with the influxdb service and with Prometheus's scrape target, and
// Grafana's provisioning points at the services and mounts that exist.
// Docker itself runs on no development machine, so nothing is started.
package composecheck
