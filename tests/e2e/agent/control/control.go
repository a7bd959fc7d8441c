// Package control is how the e2e harness drives the stand-in agent: one JSON command per
// line on the agent's stdin, and on its stdout one JSON line per reply (carrying the
// command's "id") or event (carrying "event").
//
//	{"id": 1, "op": "update", "response": <DiscoveryResponse as proto3 JSON>}
//	    -> {"id": 1, "ok": true, "took_ms": T} once Envoy ACKed it, {"id": 1, "ok": false,
//	       "error": "<error_detail>", "took_ms": T} once it NACKed it, T the milliseconds from
//	       handing the response to gRPC to the answer; the type_url decides NPDS or NPHDS
//	       (see xds.TypeOf)
//	{"id": 2, "op": "wait_subscribed", "types": [<type_url>, ...]}   (default: both)
//	    -> {"id": 2, "ok": true} once Envoy subscribed on a stream of each type
//	{"id": 3, "op": "access_log", "state": "open" | "closed" | "stalled"}
//	    -> {"id": 3, "ok": true}
//	{"id": 4, "op": "access_log_entries"}
//	    -> {"id": 4, "ok": true, "entries": N}: the entries read and decoded so far
//	a command that cannot be done -> {"id": N, "error": "..."}
//
// Events: {"event": "ready"} once both sockets listen; {"event": "stream", ...} for each
// stream opened or closed and each DiscoveryRequest (xds.Event); {"event": "log",
// "entry": <cilium.LogEntry as proto3 JSON: proto field names, defaults included>};
// {"event": "error", ...}.
package control

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cilium/proxy/tests/e2e/agent/xds"
)

// AccessLog is what the control channel needs of the access-log socket.
type AccessLog interface {
	Set(state string) error
	Entries() uint64
}

// Writer writes replies and events, one JSON line each, from any goroutine.
type Writer struct {
	mu  sync.Mutex
	enc *json.Encoder
}

// NewWriter writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{enc: json.NewEncoder(w)} }

// Write sends one line; a failure means the harness is gone, which stdin's end reports.
func (w *Writer) Write(message any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.enc.Encode(message)
}

// Event writes {"event": kind, ...fields}.
func (w *Writer) Event(kind string, fields map[string]any) {
	message := map[string]any{"event": kind}
	for k, v := range fields {
		message[k] = v
	}
	w.Write(message)
}

type command struct {
	ID       *int64          `json:"id"`
	Op       string          `json:"op"`
	Response json.RawMessage `json:"response"`
	Types    []string        `json:"types"`
	State    string          `json:"state"`
}

// Run reads commands from in until it ends or ctx is cancelled; replies go to out.
// Commands that wait (update, wait_subscribed) answer from their own goroutine, so the
// next command is read at once.
func Run(ctx context.Context, in io.Reader, out *Writer, server *xds.Server, log AccessLog) error {
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 64*1024), 256*1024*1024)
	for scanner.Scan() {
		line := scanner.Bytes()
		if len(line) == 0 {
			continue
		}
		var cmd command
		if err := json.Unmarshal(line, &cmd); err != nil {
			out.Write(map[string]any{"id": nil, "error": "not a JSON command: " + err.Error()})
			continue
		}
		if cmd.ID == nil {
			out.Write(map[string]any{"id": nil, "error": "a command needs an \"id\""})
			continue
		}
		id := *cmd.ID
		reply := func(fields map[string]any) {
			fields["id"] = id
			out.Write(fields)
		}
		switch cmd.Op {
		case "update":
			var response discoveryv3.DiscoveryResponse
			if err := protojson.Unmarshal(cmd.Response, &response); err != nil {
				reply(map[string]any{"error": "not a DiscoveryResponse: " + err.Error()})
				continue
			}
			u, err := server.Send(&response)
			if err != nil {
				reply(map[string]any{"error": err.Error()})
				continue
			}
			go func() {
				select {
				case answer := <-u.Done:
					took := float64(answer.Took.Microseconds()) / 1000
					if answer.Ack {
						reply(map[string]any{"ok": true, "took_ms": took})
					} else {
						reply(map[string]any{"ok": false, "error": answer.Error, "took_ms": took})
					}
				case <-ctx.Done():
				}
			}()
		case "wait_subscribed":
			types := cmd.Types
			if len(types) == 0 {
				types = []string{xds.PolicyTypeURL, xds.HostsTypeURL}
			}
			go func() {
				if err := server.WaitSubscribed(ctx, types...); err == nil {
					reply(map[string]any{"ok": true})
				}
			}()
		case "access_log":
			if err := log.Set(cmd.State); err != nil {
				reply(map[string]any{"error": err.Error()})
				continue
			}
			reply(map[string]any{"ok": true})
		case "access_log_entries":
			reply(map[string]any{"ok": true, "entries": log.Entries()})
		default:
			reply(map[string]any{"error": fmt.Sprintf("unknown op %q (update, wait_subscribed, "+
				"access_log, access_log_entries)", cmd.Op)})
		}
	}
	return scanner.Err()
}
