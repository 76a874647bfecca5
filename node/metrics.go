package node

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// nodeMetrics are the node's own metrics; subsystems register theirs on the
// same registry.
type nodeMetrics struct {
	registry          *prometheus.Registry
	meterProvider     *sdkmetric.MeterProvider
	ready             prometheus.Gauge
	subsystemFailures *prometheus.CounterVec
	subsystemStops    *prometheus.CounterVec
	startTime         prometheus.Gauge
	// runtimeHosts counts the runtime hosts (cluster mode) running a
	// replica runtime on this node, by cluster.
	runtimeHosts *prometheus.GaugeVec
}

// newNodeMetrics builds one prometheus registry holding Go and process
// metrics, Arbor's metrics, and protoactor's OpenTelemetry metrics bridged
// through the OpenTelemetry prometheus exporter. protoactor reads the
// *global* meter provider, so this sets it; a process runs one node.
func newNodeMetrics() (*nodeMetrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("metrics: opentelemetry bridge: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	otel.SetMeterProvider(mp)
	m := &nodeMetrics{
		registry:      reg,
		meterProvider: mp,
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arbor_node_ready", Help: "1 when the node has started every subsystem and serves requests.",
		}),
		subsystemFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbor_node_subsystem_failures_total", Help: "Failures of subsystems under the node guardian, by subsystem.",
		}, []string{"subsystem"}),
		subsystemStops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbor_node_subsystem_stops_total", Help: "Subsystems that stopped without being asked (restarts exhausted), by subsystem.",
		}, []string{"subsystem"}),
		startTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arbor_node_start_time_seconds", Help: "Unix time at which the node started.",
		}),
		runtimeHosts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "arbor_node_runtime_hosts", Help: "Replica runtimes this node runs for a controller on another node (cluster mode), by cluster.",
		}, []string{"cluster"}),
	}
	reg.MustRegister(m.ready, m.subsystemFailures, m.subsystemStops, m.startTime, m.runtimeHosts)
	return m, nil
}
