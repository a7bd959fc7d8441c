// Package accesslog is the stand-in agent's access-log socket: a SOCK_SEQPACKET Unix
// server that reads one cilium.LogEntry per message, as Cilium's agent does.
package accesslog

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	cilium "github.com/cilium/proxy/go/cilium/api"
)

// The states the harness can put the socket in.
const (
	Open    = "open"    // listening and reading
	Closed  = "closed"  // no socket file; connections closed
	Stalled = "stalled" // listening, but nothing is read: senders find it full
)

// maxEntry is the largest message read; Cilium's entries are far smaller.
const maxEntry = 1 << 20

// Server collects entries; every entry goes to onEntry as proto3 JSON (proto field names),
// or, when onEntry is nil, is only decoded and counted (a benchmark's load).
type Server struct {
	path    string
	onEntry func([]byte)
	onError func(error)
	entries atomic.Uint64

	mu      sync.Mutex
	state   string
	ln      *net.UnixListener
	conns   map[*net.UnixConn]struct{}
	resumed *sync.Cond
}

// New returns a server for path in the Closed state.
func New(path string, onEntry func([]byte), onError func(error)) *Server {
	s := &Server{path: path, onEntry: onEntry, onError: onError, state: Closed,
		conns: map[*net.UnixConn]struct{}{}}
	s.resumed = sync.NewCond(&s.mu)
	return s
}

// Entries is how many entries were read and decoded so far.
func (s *Server) Entries() uint64 { return s.entries.Load() }

// State is the current state.
func (s *Server) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Set moves the socket to state: Open (listen, read), Stalled (keep connections, read
// nothing) or Closed (close everything and remove the socket file).
func (s *Server) Set(state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch state {
	case Open, Stalled:
		if s.ln == nil {
			_ = os.Remove(s.path)
			ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: s.path, Net: "unixpacket"})
			if err != nil {
				return fmt.Errorf("access-log socket %s: %w", s.path, err)
			}
			s.ln = ln
			go s.accept(ln)
		}
	case Closed:
		if s.ln != nil {
			_ = s.ln.Close() // also removes the socket file
			s.ln = nil
		}
		for c := range s.conns {
			_ = c.Close()
		}
		s.conns = map[*net.UnixConn]struct{}{}
		_ = os.Remove(s.path)
	default:
		return fmt.Errorf("unknown access-log state %q (open, closed or stalled)", state)
	}
	s.state = state
	s.resumed.Broadcast()
	return nil
}

func (s *Server) accept(ln *net.UnixListener) {
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		if s.ln != ln {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.mu.Unlock()
		go s.read(conn)
	}
}

// waitReadable blocks while the socket is stalled; false once conn was closed.
func (s *Server) waitReadable(conn *net.UnixConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.state == Stalled {
		s.resumed.Wait()
	}
	_, open := s.conns[conn]
	return open
}

func (s *Server) read(conn *net.UnixConn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		_ = conn.Close()
	}()
	buf := make([]byte, maxEntry)
	// Proto field names; fields at their default value too (entry_type "Request", status 0,
	// empty lists), so a reader need not know proto3 JSON leaves them out.
	printer := protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true}
	for s.waitReadable(conn) {
		n, err := conn.Read(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
				s.onError(fmt.Errorf("access log: %w", err))
			}
			return
		}
		var entry cilium.LogEntry
		if err := proto.Unmarshal(buf[:n], &entry); err != nil {
			s.onError(fmt.Errorf("access log: a message of %d bytes is no cilium.LogEntry: %w", n, err))
			continue
		}
		s.entries.Add(1)
		if s.onEntry == nil {
			continue
		}
		text, err := printer.Marshal(&entry)
		if err != nil {
			s.onError(fmt.Errorf("access log: %w", err))
			continue
		}
		s.onEntry(text)
	}
}
