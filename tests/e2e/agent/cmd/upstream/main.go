// Command upstream is the e2e harness's echo server: HTTP and TCP on 127.0.0.1, on ports
// the system picks. Its first line on stdout is {"http": PORT, "tcp": PORT}; it stops
// when its stdin closes (the harness ended, however it ended) or on SIGTERM/SIGINT.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cilium/proxy/tests/e2e/agent/upstream"
)

func main() {
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	tcpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	server := &http.Server{Handler: upstream.HTTP(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(httpLn) }()
	go func() { _ = upstream.ServeTCP(tcpLn) }()

	ports := map[string]int{
		"http": httpLn.Addr().(*net.TCPAddr).Port,
		"tcp":  tcpLn.Addr().(*net.TCPAddr).Port,
	}
	if err := json.NewEncoder(os.Stdout).Encode(ports); err != nil {
		fail(err)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()
	select {
	case <-stop:
	case <-stdinClosed:
	}
	_ = server.Close()
	_ = tcpLn.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "upstream:", err)
	os.Exit(1)
}
