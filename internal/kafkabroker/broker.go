// Package kafkabroker owns the in-memory Kafka-protocol broker of `tide kafka
// start-foreground` and of `tide run` when a job needs Kafka and no
// --bootstrap-servers is given: franz-go's kfake, one broker on loopback
// (or on the host asked for, advertising the name clients should use, as in
// a Kubernetes pod behind a Service), with the topics asked for. It keeps nothing: the records live in memory
// until Close.
package kafkabroker

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Topic is a topic to create at start.
type Topic struct {
	Name       string
	Partitions int32
}

// ParseTopic parses NAME:PARTITIONS (NAME alone: one partition).
func ParseTopic(s string) (Topic, error) {
	name, parts, found := strings.Cut(s, ":")
	t := Topic{Name: name, Partitions: 1}
	if name == "" {
		return Topic{}, fmt.Errorf("kafkabroker: topic %q: want NAME:PARTITIONS", s)
	}
	if found {
		n, err := strconv.ParseInt(parts, 10, 32)
		if err != nil || n < 1 {
			return Topic{}, fmt.Errorf("kafkabroker: topic %q: partitions must be a positive integer", s)
		}
		t.Partitions = int32(n)
	}
	return t, nil
}

// Config is a broker to start.
type Config struct {
	// Port is the port to listen on; 0: a free one (see Addr).
	Port int
	// Host is the address to listen on; empty: 127.0.0.1. 0.0.0.0 (or
	// ::) listens on every interface, as a broker in a pod must.
	Host string
	// AdvertisedHost is the host the broker tells clients to connect to
	// in its metadata (Kafka's advertised.listeners); empty: the address it
	// listens on. A broker listening on 0.0.0.0 behind a Kubernetes Service
	// advertises the Service's name.
	AdvertisedHost string
	// Topics are created at start.
	Topics []Topic
	// Opts are extra kfake options, passed through unchanged.
	Opts []kfake.Opt
}

// Broker is a running in-memory broker. Its state is owned by kfake's
// cluster goroutine; Close stops it and waits for it.
type Broker struct {
	c *kfake.Cluster
}

// Start starts a broker on Host:Port (127.0.0.1 by default) with the
// topics created.
func Start(c Config) (*Broker, error) {
	if c.Port < 0 || c.Port > 65535 {
		return nil, fmt.Errorf("kafkabroker: port %d out of range", c.Port)
	}
	host := c.Host
	if host == "" {
		host = "127.0.0.1"
	}
	if strings.ContainsAny(c.AdvertisedHost, ":/ ") && net.ParseIP(c.AdvertisedHost) == nil {
		return nil, fmt.Errorf("kafkabroker: advertised host %q: want a host name or an IP address, without a port", c.AdvertisedHost)
	}
	// kfake listens on 127.0.0.1 and advertises its listener's address;
	// this listen function moves the listener to host and makes its Addr
	// the advertised one, which kfake puts in its metadata.
	listen := func(network, address string) (net.Listener, error) {
		_, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen(network, net.JoinHostPort(host, port))
		if err != nil || c.AdvertisedHost == "" {
			return ln, err
		}
		_, port, _ = net.SplitHostPort(ln.Addr().String())
		return advertised{Listener: ln, addr: net.JoinHostPort(c.AdvertisedHost, port)}, nil
	}
	opts := []kfake.Opt{kfake.Ports(c.Port), kfake.ListenFn(listen)}
	for _, t := range c.Topics {
		opts = append(opts, kfake.SeedTopics(t.Partitions, t.Name))
	}
	cl, err := kfake.NewCluster(append(opts, c.Opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafkabroker: starting on %s: %w", net.JoinHostPort(host, strconv.Itoa(c.Port)), err)
	}
	return &Broker{c: cl}, nil
}

// advertised is a listener whose Addr is the advertised host:port.
type advertised struct {
	net.Listener
	addr string
}

func (a advertised) Addr() net.Addr { return advertisedAddr(a.addr) }

// advertisedAddr is a host:port that need not resolve here.
type advertisedAddr string

func (advertisedAddr) Network() string  { return "tcp" }
func (a advertisedAddr) String() string { return string(a) }

// Addr returns the broker's advertised host:port (its listening address
// when none is advertised), for --bootstrap-servers.
func (b *Broker) Addr() string { return b.c.ListenAddrs()[0] }

// Cluster returns the kfake cluster, for tests that inject faults.
func (b *Broker) Cluster() *kfake.Cluster { return b.c }

// Close stops the broker; what it held is gone.
func (b *Broker) Close() { b.c.Close() }
