package control_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/cilium/proxy/tests/e2e/agent/control"
	"github.com/cilium/proxy/tests/e2e/agent/xds"
)

type recordingLog struct{ states []string }

func (r *recordingLog) Entries() uint64 { return uint64(len(r.states)) }

func (r *recordingLog) Set(state string) error {
	r.states = append(r.states, state)
	return nil
}

// run feeds lines to Run and returns every line it wrote.
func run(t *testing.T, lines ...string) []map[string]any {
	t.Helper()
	reader, writer := io.Pipe()
	log := &recordingLog{}
	done := make(chan error, 1)
	go func() {
		err := control.Run(context.Background(), strings.NewReader(strings.Join(lines, "\n")+"\n"),
			control.NewWriter(writer), xds.NewServer(nil), log)
		_ = writer.Close()
		done <- err
	}()
	var out []map[string]any
	scanner := bufio.NewScanner(reader)
	for scanner.Scan() {
		var m map[string]any
		if err := json.Unmarshal(scanner.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %s", scanner.Text())
		}
		out = append(out, m)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBadCommandsGetOneErrorEach(t *testing.T) {
	out := run(t,
		`not json`,
		`{"op": "update"}`,
		`{"id": 1, "op": "update", "response": {"resources": [{"@type": "type.googleapis.com/cilium.Nope"}]}}`,
		`{"id": 2, "op": "update", "response": {"type_url": "type.googleapis.com/envoy.config.listener.v3.Listener"}}`,
		`{"id": 3, "op": "dance"}`,
		`{"id": 4, "op": "access_log", "state": "stalled"}`,
		`{"id": 5, "op": "access_log_entries"}`,
	)
	if len(out) != 7 {
		t.Fatalf("want 6 replies, got %v", out)
	}
	for i, m := range out[:5] {
		if _, ok := m["error"].(string); !ok {
			t.Errorf("reply %d: want an error, got %v", i, m)
		}
	}
	if out[2]["id"] != 1.0 || !strings.Contains(out[2]["error"].(string), "DiscoveryResponse") {
		t.Errorf("unexpected %v", out[2])
	}
	if out[5]["id"] != 4.0 || out[5]["ok"] != true {
		t.Errorf("unexpected %v", out[5])
	}
	if out[6]["id"] != 5.0 || out[6]["ok"] != true || out[6]["entries"] != 1.0 {
		t.Errorf("unexpected %v", out[6])
	}
}
