// Package deploy holds Tide's deployment files — Prometheus scrape
// configurations and the recording rules that give Tide's series Flink's
// names — and the tests that keep them true to what Tide exports.
package deploy
