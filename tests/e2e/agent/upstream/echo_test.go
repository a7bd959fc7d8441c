package upstream_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/proxy/tests/e2e/agent/upstream"
)

func TestHTTPEchoesHeadersInOrder(t *testing.T) {
	server := httptest.NewServer(upstream.HTTP())
	defer server.Close()
	conn, err := net.Dial("tcp", server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	request := "GET /x?y=1 HTTP/1.1\r\nHost: svc\r\nX-Zed: 1\r\nuser-agent: t\r\nX-Zed: 2\r\nA-First: a\r\n\r\n"
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	response, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	if response.StatusCode != 200 || response.Header.Get(upstream.Marker) != "echo" {
		t.Fatalf("status %d, marker %q", response.StatusCode, response.Header.Get(upstream.Marker))
	}
	var got [][2]string
	if err := json.NewDecoder(response.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{":method", "GET"}, {":path", "/x?y=1"}, {":authority", "svc"},
		{"a-first", "a"}, {"user-agent", "t"}, {"x-zed", "1"}, {"x-zed", "2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestTCPEchoes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { _ = upstream.ServeTCP(ln) }()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "ping\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ping" {
		t.Fatalf("got %q, %v", line, err)
	}
}
