package accesslog_test

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	cilium "github.com/cilium/proxy/go/cilium/api"
	"github.com/cilium/proxy/tests/e2e/agent/accesslog"
)

func entry(t *testing.T, path string) []byte {
	t.Helper()
	data, err := proto.Marshal(&cilium.LogEntry{
		EntryType: cilium.EntryType_Denied, SourceAddress: "198.51.100.7:40000",
		L7: &cilium.LogEntry_Http{Http: &cilium.HttpLogEntry{Path: path, Status: 403}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// openAndDial opens a server on a socket in a temporary folder and connects to it, as the
// module does; both are closed when the test ends.
func openAndDial(t *testing.T, onEntry func([]byte)) (*accesslog.Server, string, *net.UnixConn) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "access_log.sock")
	s := accesslog.New(path, onEntry, func(err error) { t.Error(err) })
	if err := s.Set(accesslog.Open); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Set(accesslog.Closed) })
	conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return s, path, conn
}

func TestEntriesArriveAsProtoJSONAndStatesHold(t *testing.T) {
	got := make(chan []byte, 100)
	s, path, conn := openAndDial(t, func(b []byte) { got <- b })
	if _, err := conn.Write(entry(t, "/a")); err != nil {
		t.Fatal(err)
	}
	select {
	case text := <-got:
		var fields map[string]any
		if err := json.Unmarshal(text, &fields); err != nil {
			t.Fatal(err)
		}
		http, _ := fields["http"].(map[string]any)
		if fields["entry_type"] != "Denied" || fields["source_address"] != "198.51.100.7:40000" || http["path"] != "/a" {
			t.Fatalf("proto field names expected: %s", text)
		}
		if fields["is_ingress"] != false || http["missing_headers"] == nil {
			t.Fatalf("fields at their default value expected: %s", text)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no entry")
	}

	// Stalled: nothing is read, so a non-blocking sender soon finds the socket full.
	if err := s.Set(accesslog.Stalled); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	raw, _ := conn.SyscallConn()
	full := false
	for i := 0; i < 10000 && !full; i++ {
		_ = raw.Write(func(fd uintptr) bool {
			_, err := syscall.Write(int(fd), entry(t, "/b"))
			full = errors.Is(err, syscall.EAGAIN)
			return true
		})
	}
	if !full {
		t.Fatal("a stalled socket never filled up")
	}
	if err := s.Set(accesslog.Open); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got: // reading resumed
	case <-time.After(5 * time.Second):
		t.Fatal("reading did not resume")
	}

	// Closed: the socket file is gone and the connection is closed.
	if err := s.Set(accesslog.Closed); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("socket file still there: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 10)); err == nil {
		t.Fatal("the connection stayed open")
	}
	if err := s.Set("sideways"); err == nil {
		t.Fatal("an unknown state was accepted")
	}
}

func TestWithoutOnEntryEntriesAreOnlyCounted(t *testing.T) {
	s, _, conn := openAndDial(t, nil)
	for _, p := range []string{"/a", "/b", "/c"} {
		if _, err := conn.Write(entry(t, p)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Entries() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.Entries(); got != 3 {
		t.Fatalf("want 3 entries counted, got %d", got)
	}
}
