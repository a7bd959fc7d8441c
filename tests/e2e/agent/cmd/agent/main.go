// Command agent is the stand-in for Cilium's agent in the e2e harness: NPDS and NPHDS
// over real gRPC on a Unix socket, and the access-log socket. The harness drives it over
// stdin/stdout (package control); it stops when its stdin closes or on SIGTERM/SIGINT,
// breaking every xDS stream and removing its sockets.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"google.golang.org/grpc"

	"github.com/cilium/proxy/tests/e2e/agent/accesslog"
	"github.com/cilium/proxy/tests/e2e/agent/control"
	"github.com/cilium/proxy/tests/e2e/agent/xds"
)

func main() {
	xdsPath := flag.String("xds", "", "Unix socket path of the xDS gRPC server (required)")
	logPath := flag.String("access-log", "", "SOCK_SEQPACKET socket path of the access log (required)")
	logState := flag.String("access-log-state", accesslog.Open,
		"state of the access-log socket at start: open, closed or stalled")
	logEvents := flag.Bool("access-log-events", true,
		"report each access-log entry on stdout (false: only decode and count them)")
	flag.Parse()
	if *xdsPath == "" || *logPath == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: agent -xds PATH -access-log PATH [-access-log-state STATE] "+
			"[-access-log-events=false]")
		os.Exit(2)
	}

	out := control.NewWriter(os.Stdout)
	server := xds.NewServer(func(e xds.Event) { out.Event("stream", asFields(e)) })
	onEntry := func(entry []byte) { out.Event("log", map[string]any{"entry": json.RawMessage(entry)}) }
	if !*logEvents {
		onEntry = nil
	}
	log := accesslog.New(*logPath, onEntry,
		func(err error) { out.Event("error", map[string]any{"error": err.Error()}) })
	if err := log.Set(*logState); err != nil {
		fail(err)
	}

	_ = os.Remove(*xdsPath)
	ln, err := net.Listen("unix", *xdsPath)
	if err != nil {
		fail(err)
	}
	g := grpc.NewServer()
	server.Register(g)
	go func() { _ = g.Serve(ln) }()
	out.Event("ready", map[string]any{"xds": *xdsPath, "access_log": *logPath})

	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	shutdown := func() {
		once.Do(func() {
			cancel()
			g.Stop() // breaks every stream at once, as an agent that dies would
			_ = log.Set(accesslog.Closed)
			_ = os.Remove(*xdsPath)
		})
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		shutdown() // a read of stdin cannot be interrupted: end here
		os.Exit(0)
	}()
	if err := control.Run(ctx, os.Stdin, out, server, log); err != nil {
		fmt.Fprintln(os.Stderr, "agent: reading commands:", err)
	}
	shutdown()
}

func asFields(e xds.Event) map[string]any {
	var fields map[string]any
	data, _ := json.Marshal(e)
	_ = json.Unmarshal(data, &fields)
	return fields
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "agent:", err)
	os.Exit(1)
}
