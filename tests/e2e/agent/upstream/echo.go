// Package upstream is the echo server behind Envoy's clusters: over HTTP it answers 200
// with the request headers it received, over TCP it sends back what it reads.
package upstream

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
)

// Marker is a response header only the echo server sets: a response without it did not
// come from the upstream (Envoy or a filter answered).
const Marker = "x-e2e-upstream"

// Headers lists what the request carried as [name, value] pairs, names in lower case:
// ":method", ":path" and ":authority" first, then the others sorted by name, the values
// of one name in the order they arrived (Go keeps no order across names).
func Headers(r *http.Request) [][2]string {
	pairs := [][2]string{{":method", r.Method}, {":path", r.RequestURI}, {":authority", r.Host}}
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	for _, name := range names {
		for _, value := range r.Header[name] {
			pairs = append(pairs, [2]string{strings.ToLower(name), value})
		}
	}
	if len(r.TransferEncoding) > 0 {
		pairs = append(pairs, [2]string{"transfer-encoding", strings.Join(r.TransferEncoding, ", ")})
	}
	return pairs
}

// HTTP answers every request with 200 and its headers as a JSON array.
func HTTP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		body, err := json.Marshal(Headers(r))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(Marker, "echo")
		_, _ = w.Write(body)
	})
}

// ServeTCP echoes every connection of ln until ln is closed.
func ServeTCP(ln net.Listener) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer conn.Close()
			_, _ = io.Copy(conn, conn)
		}()
	}
}
